package facts

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// jdwpAgent matches a JDWP agent option (-agentlib:jdwp=... or the older
// -Xrunjdwp:...) up to the end of its option list.
var jdwpAgent = regexp.MustCompile(`(?:-agentlib:jdwp=|-Xrunjdwp:)([^\s"']+)`)

// JDWPPorts returns the ports a Java debugger (JDWP) agent listens on,
// found in the given command lines and variable values (CMD, ENTRYPOINT,
// JAVA_TOOL_OPTIONS, JAVA_OPTS, compose commands). Such a port speaks the
// debugger's protocol, never HTTP.
func JDWPPorts(texts ...string) []int {
	var out []int
	for _, t := range texts {
		for _, m := range jdwpAgent.FindAllStringSubmatch(t, -1) {
			for _, opt := range strings.Split(m[1], ",") {
				v, ok := strings.CutPrefix(opt, "address=")
				if !ok {
					continue
				}
				if i := strings.LastIndex(v, ":"); i >= 0 {
					v = v[i+1:]
				}
				if n, err := strconv.Atoi(v); err == nil && n > 0 && n <= 65535 && !slices.Contains(out, n) {
					out = append(out, n)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// DebuggerPorts returns the Java debugger (JDWP) ports of the stage: from
// a JDWP agent in the chain's CMD, ENTRYPOINT, ENV and RUN instructions or
// in the services' commands and environment, and the conventional 5005 in
// a Java image.
func (sf *StageFacts) DebuggerPorts(svcs []Service) []int {
	var texts []string
	for _, in := range sf.Instructions("", nil) {
		switch in.Cmd {
		case "cmd", "entrypoint", "env", "run":
			texts = append(texts, strings.Join(in.Args, " "))
		}
	}
	for _, s := range svcs {
		texts = append(texts, strings.Join(s.Command, " "))
		for k, v := range s.Environment {
			texts = append(texts, k+"="+v)
		}
	}
	ports := JDWPPorts(texts...)
	java := false
	for _, t := range []string{"java", "jdk", "jre", "temurin", "corretto", "maven", "gradle"} {
		java = java || strings.Contains(sf.Info.Image.Name, t) || sf.Info.Base.HasTool(t)
	}
	if java && !slices.Contains(ports, 5005) {
		ports = append(ports, 5005)
	}
	return ports
}
