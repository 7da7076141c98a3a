package e2e

import (
	"math"
	"strings"
	"testing"
)

func TestRatioTable(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median of 3 = %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median of 4 = %v", m)
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of none is not NaN")
	}
	table := ratioTable([]ratios{
		{service: "a web", size: 0.3, cold: 0.9, rebuild: 0.4, deps: math.NaN()},
		{service: "b api", size: 0.5, cold: 1.1, rebuild: 0.6, deps: 0.2},
	})
	for _, want := range []string{"median                              0.40  1.00    0.50  0.20", "b api", "target"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}
