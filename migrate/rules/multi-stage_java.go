package rules

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

// splitJar is where the runtime stage keeps the application jar.
const splitJar = "/app/app.jar"

// splitJavaSources are COPY sources only the build reads.
var splitJavaSources = map[string]bool{".": true, "pom.xml": true, "src": true, "build.gradle": true, "build.gradle.kts": true,
	"settings.gradle": true, "settings.gradle.kts": true, "gradle.properties": true, "gradle": true, "gradlew": true,
	"gradlew.bat": true, "mvnw": true, "mvnw.cmd": true, ".mvn": true, "buildSrc": true}

// splitJavaJRE derives the JRE image from a JDK or build-tool image:
// each pattern captures the Java version and an optional variant suffix.
var splitJavaJRE = []struct {
	image string
	tag   *regexp.Regexp
}{
	{"eclipse-temurin", regexp.MustCompile(`^(\d+)(?:[.\d_+u]*)?-jdk(-[a-z0-9.-]+)?$`)},
	{"eclipse-temurin", regexp.MustCompile(`^(\d+)()$`)},
	{"maven", regexp.MustCompile(`eclipse-temurin-(\d+)(-[a-z0-9.-]+)?$`)},
	{"gradle", regexp.MustCompile(`jdk(\d+)(-(?:alpine|jammy|focal|noble|noble|ubi\d*))?$`)},
}

func splitJavaTool(name string) string {
	switch strings.TrimPrefix(name, "./") {
	case "mvn", "mvnw":
		return "maven"
	case "gradle", "gradlew":
		return "gradle"
	}
	return ""
}

func splitJavaClassify(c dockerfile.Command) splitKind {
	w := c.Words
	if c.Name() == "sh" || c.Name() == "bash" {
		w = w[1:]
	}
	if len(w) == 0 || splitJavaTool(w[0]) == "" {
		return splitNeutralOr(c, splitOther)
	}
	for _, x := range w[1:] {
		if strings.HasPrefix(x, "dependency:") || x == "dependencies" || x == "--version" || x == "-v" {
			return splitDeps
		}
	}
	return splitBuild
}

func splitJava(c *splitCtx) *splitOut {
	p := c.p
	line := c.st.From.Start
	im := c.info.Image
	jre := ""
	for _, j := range splitJavaJRE {
		if im.Base() != j.image || im.Name != im.Base() {
			continue
		}
		if m := j.tag.FindStringSubmatch(im.Tag); m != nil {
			jre = "eclipse-temurin:" + m[1] + "-jre" + m[2]
			break
		}
	}
	if jre == "" {
		p.Report(line, "no split: no matching JRE image is known for %s", im.Ref)
		return nil
	}
	firstB, lastB := c.span(func(it *splitItem) bool { return it.kind == splitDeps || it.kind == splitBuild })
	if c.first(splitBuild) == nil {
		return nil
	}
	if it := c.otherBetween(firstB, lastB); it != nil {
		p.NeedsHuman(it.in.Start, "no split: this RUN sits between the build steps; it cannot be placed in the builder or the runtime safely")
		return nil
	}
	jarWord, entry := c.javaJar()
	if jarWord == "" {
		p.NeedsHuman(line, "no split: the start command names no jar the runtime stage could copy; adapt CMD/ENTRYPOINT to run a jar first")
		return nil
	}
	jarSrc := facts.JoinPath(entry.workdir, jarWord)
	gradle := false
	for _, it := range c.items {
		for _, cmd := range it.cmds {
			gradle = gradle || splitJavaTool(cmd.Name()) == "gradle" || (len(cmd.Words) > 1 && splitJavaTool(cmd.Words[1]) == "gradle")
		}
	}
	if gradle && strings.ContainsAny(jarWord, "*?[") {
		p.NeedsHuman(entry.in.Start, "no split: %s may match Gradle's plain jar too; name the jar exactly", jarWord)
		return nil
	}
	caches := []string{"/root/.m2"}
	if gradle {
		caches = []string{"/root/.gradle"}
		if im.Base() == "gradle" {
			caches = []string{"/home/gradle/.gradle"}
		}
	}
	c.rtFamily = facts.FamilyOfImage(jre)
	c.rtRelease = facts.DebianRelease(jre)
	if c.rtFamily == facts.Debian && c.rtRelease == "" {
		c.rtRelease = "noble" // the plain temurin tags are Ubuntu-based
	}
	builder := c.stageName("builder")

	var b stageText
	b.add(c.fromLine(c.st.Base, builder))
	c.builderItems(&b, firstB, lastB, caches...)
	var r stageText
	r.add(c.fromLine(jre, c.st.Name))
	var dropped []string
	for i, it := range c.items {
		switch {
		case it.in == entry.in || (it.in.Cmd == "entrypoint" || it.in.Cmd == "cmd") && strings.Contains(it.text, jarWord):
			r.item(it, strings.Replace(it.text, jarWord, splitJar, 1), true)
		case it.kind == splitPkgs:
			r.item(it, c.runtimePkgs(it), true)
		case it.kind == splitCopy:
			var keep []string
			for _, s := range it.srcs {
				if splitJavaSources[path.Base(path.Clean(s))] {
					dropped = append(dropped, s)
				} else {
					keep = append(keep, s)
				}
			}
			switch {
			case len(keep) == len(it.srcs):
				r.item(it, it.text, true)
			case len(keep) > 0:
				r.item(it, c.kw(it.in.Cmd)+" "+splitFlags(it.in)+strings.Join(keep, " ")+" "+it.in.Args[len(it.in.Args)-1]+"\n", true)
			}
		case it.kind == splitDeps || it.kind == splitBuild:
			text := c.runtimePkgs(it)
			if i == lastB {
				text += c.kw("COPY") + " --from=" + builder + " " + jarSrc + " " + splitJar + "\n"
			}
			r.add(text)
		default:
			r.item(it, it.text, true)
		}
	}
	summary := fmt.Sprintf("split into %s (JDK and build tool with a repository cache) and a runtime on %s that copies %s to %s; the start command now runs %s",
		builder, jre, jarSrc, splitJar, splitJar)
	if len(dropped) > 0 {
		summary += "; build inputs are not copied (" + strings.Join(dropped, ", ") + ")"
	}
	if im.Digest != "" {
		p.NeedsHuman(line, "the new runtime image %s is not pinned by digest like the original; pin it", jre)
	}
	return &splitOut{builders: []string{b.String()}, runtime: r.String(), summary: summary}
}

// javaJar returns the jar the start command runs and the instruction that names it.
func (c *splitCtx) javaJar() (string, *splitItem) {
	var found string
	var at *splitItem
	for _, it := range c.items {
		if it.in.Cmd != "cmd" && it.in.Cmd != "entrypoint" {
			continue
		}
		words := it.in.Args
		if !it.in.JSON {
			words = strings.Fields(strings.Join(it.in.Args, " "))
		}
		for i, w := range words {
			if w == "-jar" && i+1 < len(words) && strings.HasSuffix(words[i+1], ".jar") {
				found, at = words[i+1], it
			}
		}
	}
	return found, at
}
