package rules

// splitStaticReport handles a runtime stage that serves static files with a
// web server image (typically the nginx stage after a Node build). The
// stage is kept as it is; its user is the non-root-user rule's decision
// (the stock nginx and httpd images run as their own unprivileged account
// once the paths they write are theirs).
func splitStaticReport(c *splitCtx) {
	im := c.info.Image
	if c.info.EndsNonRoot() {
		return
	}
	switch im.Base() {
	case "nginx", "httpd":
		c.p.Report(c.st.From.Start, "static site on %s kept as the runtime stage", im.Ref)
	}
}
