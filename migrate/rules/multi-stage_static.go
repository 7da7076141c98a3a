package rules

import "strings"

// splitStaticReport handles a runtime stage that serves static files with a
// web server image (typically the nginx stage after a Node build). The
// stage is kept as it is; the stock nginx and httpd images run their master
// process as root to bind port 80, and moving them to a non-root user
// means an unprivileged port and a matching compose port mapping, which is
// left to a person.
func splitStaticReport(c *splitCtx) {
	im := c.info.Image
	if c.info.EndsNonRoot() || strings.Contains(im.Name, "unprivileged") {
		return
	}
	switch im.Base() {
	case "nginx":
		c.p.NeedsHuman(c.st.From.Start, "static site on %s kept as the runtime stage; it runs as root to bind port 80: "+
			"to run it non-root, switch to nginxinc/nginx-unprivileged (port 8080) or listen on a port above 1023, and update the compose port mapping", im.Ref)
	case "httpd":
		c.p.NeedsHuman(c.st.From.Start, "static site on %s kept as the runtime stage; it runs as root to bind port 80: "+
			"to run it non-root, make it listen on a port above 1023 and update the compose port mapping", im.Ref)
	}
}
