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
