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
// tool when it starts, from the last CMD and ENTRYPOINT in effect in the
// stage's chain and the compose command of the services that build it. It
// returns the tool ("maven", "gradle", "go", "cargo", "dotnet", "sbt") and
// where that was seen, or "" when nothing starts one.
func (sf *StageFacts) StartsBuildTool() (tool, where string) {
	var cmd, entry []string
	if ins := sf.Instructions("cmd", nil); len(ins) > 0 {
		cmd = ins[len(ins)-1].Args
	}
	if ins := sf.Instructions("entrypoint", nil); len(ins) > 0 {
		entry = ins[len(ins)-1].Args
	}
	for _, s := range sf.Services {
		if s.Command != nil {
			if t := matchStartTool(s.Command); t != "" {
				return t, fmt.Sprintf("compose service %s runs %s when its container starts", s.Name, t)
			}
		}
	}
	if t := matchStartTool(entry); t != "" {
		return t, fmt.Sprintf("its ENTRYPOINT runs %s when the container starts", t)
	}
	if t := matchStartTool(cmd); t != "" {
		return t, fmt.Sprintf("its CMD runs %s when the container starts", t)
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

// StartCommands returns the command lines that may start the stage's
// container: every CMD and ENTRYPOINT of the chain, in order
// (ImageCommands), then the compose command of each service that builds
// the stage and sets one.
func (sf *StageFacts) StartCommands() []string {
	return append(sf.ImageCommands(), sf.composeCommands()...)
}

// ImageCommands returns the command lines of the chain's CMD and
// ENTRYPOINT instructions that have any, in order: what the image starts
// when compose does not give a command.
func (sf *StageFacts) ImageCommands() []string {
	var cmds []string
	for _, st := range sf.Chain {
		for _, in := range st.Instructions {
			if in.Cmd != "cmd" && in.Cmd != "entrypoint" {
				continue
			}
			if c := strings.TrimSpace(strings.Join(in.Args, " ")); c != "" {
				cmds = append(cmds, c)
			}
		}
	}
	return cmds
}

// composeCommands returns the compose commands of the services that build
// the stage and set one.
func (sf *StageFacts) composeCommands() []string {
	var cmds []string
	for _, s := range sf.Services {
		if s.Command != nil {
			cmds = append(cmds, strings.Join(s.Command, " "))
		}
	}
	return cmds
}
