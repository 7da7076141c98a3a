package main

import (
	"os"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/migrate/rules"
)

// TestReadmeListsEveryRule keeps the README's rule table true.
func TestReadmeListsEveryRule(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules.All() {
		if !strings.Contains(string(data), "| `"+r.ID+"` | "+r.Title+" |") {
			t.Errorf("README.md has no row for rule %s (%s)", r.ID, r.Title)
		}
	}
}
