package facts

import "testing"

// IsRoot answers for USER values and for the user verify records.
func TestIsRoot(t *testing.T) {
	for user, want := range map[string]bool{
		"": true, "root": true, "0": true, "0:0": true, "root:root": true, "0 (root)": true,
		"node": false, "1000": false, "1000:1000": false, "app:root": false, "1000 (app)": false, "10001": false,
	} {
		if got := IsRoot(user); got != want {
			t.Errorf("IsRoot(%q) = %v, want %v", user, got, want)
		}
	}
}
