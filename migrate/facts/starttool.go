package facts

import (
	"fmt"
	"regexp"
	"strings"
)

// startTools are the build tools that some images run when the container
// starts (mvn spring-boot:run, gradle bootRun, go run, cargo run, dotnet
// run, sbt run). Such a container compiles into its working directory and
// reads the dependency caches the image build filled, both as the user the
// build ran as.
var startTools = []struct {
	name string
	re   *regexp.Regexp
}{
	{"maven", regexp.MustCompile(`(^|[\s/])mvnw?(\s|$)`)},
	{"gradle", regexp.MustCompile(`(^|[\s/])gradlew?(\s|$)`)},
	{"go", regexp.MustCompile(`(^|[\s/;&|])go\s+(run|build|test|generate)\b`)},
	{"cargo", regexp.MustCompile(`(^|[\s/;&|])cargo\s+(run|build|watch)\b`)},
	{"dotnet", regexp.MustCompile(`(^|[\s/;&|])dotnet\s+(run|watch|build)\b`)},
	{"sbt", regexp.MustCompile(`(^|[\s/])sbt(\s|$)`)},
}

// StartsBuildTool says whether the container of this stage runs a build
// tool when it starts, from its start commands (StartCommandLines: the
// ENTRYPOINT and CMD in effect and the compose entrypoint and command of
// the services that build it). It returns the tool ("maven", "gradle",
// "go", "cargo", "dotnet", "sbt") and where that was seen, or "" when
// nothing starts one.
func (sf *StageFacts) StartsBuildTool() (tool, where string) {
	starts := sf.StartCommandLines()
	// A service's own command names the service: look at those first.
	for _, compose := range []bool{true, false} {
		for _, c := range starts {
			if (c.Service != "") != compose {
				continue
			}
			t := matchStartTool(c.Args)
			switch {
			case t == "":
			case compose:
				return t, fmt.Sprintf("compose service %s runs %s when its container starts", c.Service, t)
			default:
				return t, fmt.Sprintf("its %s runs %s when the container starts", c.Where, t)
			}
		}
	}
	return "", ""
}

func matchStartTool(args []string) string {
	if len(args) == 0 {
		return ""
	}
	s := strings.Join(args, " ")
	for _, t := range startTools {
		if t.re.MatchString(s) {
			return t.name
		}
	}
	return ""
}

// StartCommand is one command line the stage's container may start with.
type StartCommand struct {
	// Where names it: "ENTRYPOINT", "CMD" (the image's), or "compose
	// service web entrypoint", "compose service web command".
	Where string
	// Service is the compose service that sets it ("" for the image's).
	Service string
	Args    []string
	// JSON is the exec form (compose's are always argv).
	JSON bool
}

// StartCommandLines returns what may start the stage's container: the
// last ENTRYPOINT and the last CMD of the chain, and the compose
// entrypoint and command of each service that builds the stage, with
// compose's semantics: a service's command replaces the image's CMD, and
// its entrypoint replaces the image's ENTRYPOINT and clears the image's
// CMD (the service's command, if any, runs instead). The image's own
// lines come first (once, when no service builds the stage or one still
// uses them), then each service's, in order; empty lines are left out.
func (sf *StageFacts) StartCommandLines() []StartCommand {
	last := func(cmd string) *StartCommand {
		ins := sf.Instructions(cmd, nil)
		if len(ins) == 0 || len(ins[len(ins)-1].Args) == 0 {
			return nil
		}
		in := ins[len(ins)-1]
		return &StartCommand{Where: strings.ToUpper(cmd), Args: in.Args, JSON: in.JSON}
	}
	entry, cmd := last("entrypoint"), last("cmd")
	imageEntry, imageCmd := len(sf.Services) == 0, len(sf.Services) == 0
	var compose []StartCommand
	for _, s := range sf.Services {
		if s.Entrypoint == nil {
			imageEntry = true
			imageCmd = imageCmd || s.Command == nil
		}
		for _, c := range []struct {
			what string
			args []string
		}{{"entrypoint", s.Entrypoint}, {"command", s.Command}} {
			if len(c.args) > 0 {
				compose = append(compose, StartCommand{Where: "compose service " + s.Name + " " + c.what, Service: s.Name, Args: c.args, JSON: true})
			}
		}
	}
	var out []StartCommand
	if imageEntry && entry != nil {
		out = append(out, *entry)
	}
	if imageCmd && cmd != nil {
		out = append(out, *cmd)
	}
	return append(out, compose...)
}

// StartCommands returns the command lines of StartCommandLines, joined.
func (sf *StageFacts) StartCommands() []string {
	var cmds []string
	for _, c := range sf.StartCommandLines() {
		if l := strings.TrimSpace(strings.Join(c.Args, " ")); l != "" {
			cmds = append(cmds, l)
		}
	}
	return cmds
}
