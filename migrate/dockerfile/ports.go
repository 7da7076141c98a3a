package dockerfile

import (
	"strconv"
	"strings"
)

// maxPortRange bounds how many ports a range expands to; a wider range
// says nothing about which port the application serves, so only its first
// port is kept.
const maxPortRange = 64

// PortSpec parses one port as EXPOSE and compose's expose: write it: "80",
// "80/tcp" or a range "8000-8010". It returns nil when the text is not a
// port number.
func PortSpec(v string) []int {
	v, _, _ = strings.Cut(v, "/")
	lo, hi, isRange := strings.Cut(v, "-")
	a, err := strconv.Atoi(strings.TrimSpace(lo))
	if err != nil || a <= 0 {
		return nil
	}
	if !isRange {
		return []int{a}
	}
	z, err := strconv.Atoi(strings.TrimSpace(hi))
	if err != nil || z < a || z-a > maxPortRange {
		return []int{a}
	}
	out := make([]int, 0, z-a+1)
	for n := a; n <= z; n++ {
		out = append(out, n)
	}
	return out
}
