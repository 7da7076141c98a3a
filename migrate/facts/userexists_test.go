package facts

import (
	"testing"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

func TestUserExists(t *testing.T) {
	src := "FROM node:20-alpine\nRUN addgroup -S svc && adduser -S -G svc svc\nUSER svc\nCMD [\"node\"]\n"
	f, err := dockerfile.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	b := &Build{Files: map[string]bool{}, Services: []Service{{Name: "app"}}}
	sf := NewStages(b, f).Of(f.Stages[0])
	run := f.Stages[0].Instructions[1]
	for _, c := range []struct {
		user   string
		before *dockerfile.Instruction
		want   bool
	}{
		{"node", nil, true},      // the image's own (table)
		{"node:node", nil, true}, // with a group
		{"10001", nil, true},     // numeric
		{"svc", nil, true},       // created by the RUN
		{"svc", run, false},      // not yet before that RUN
		{"app", nil, false},      // nobody creates it
		{"www-data", nil, false}, // a Debian account, not Alpine's
		{"root", nil, true},
	} {
		if got := sf.UserExists(c.user, c.before); got != c.want {
			t.Errorf("UserExists(%q, before=%v) = %v, want %v", c.user, c.before != nil, got, c.want)
		}
	}
}
