package facts

import (
	"maps"
	"testing"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

func TestParseUserAdd(t *testing.T) {
	for _, c := range []struct {
		words []string
		name  string
		opts  map[string]string
	}{
		{[]string{"useradd", "-r", "-u", "1001", "-g", "app", "app"}, "app", map[string]string{"-r": "", "-u": "1001", "-g": "app"}},
		{[]string{"adduser", "-SD", "-u1001", "-h", "/srv", "web"}, "web", map[string]string{"-S": "", "-D": "", "-u": "1001", "-h": "/srv"}},
		{[]string{"adduser", "-SDu", "1001", "web"}, "web", map[string]string{"-S": "", "-D": "", "-u": "1001"}},
		{[]string{"/usr/sbin/useradd", "--uid=5", "--create-home", "--home-dir", "/home/x", "--", "x"}, "x", map[string]string{"--uid": "5", "--create-home": "", "--home-dir": "/home/x"}},
		{[]string{"useradd", "-R", "/chroot", "bob"}, "bob", map[string]string{"-R": "/chroot"}},
		{[]string{"useradd", "-D"}, "", map[string]string{"-D": ""}},
	} {
		u, ok := ParseUserAdd(dockerfile.NewCommand(c.words...))
		if !ok || u.Name != c.name || !maps.Equal(u.Opts, c.opts) {
			t.Errorf("ParseUserAdd(%q) = %+v, %v; want name %q opts %v", c.words, u, ok, c.name, c.opts)
		}
	}
	if _, ok := ParseUserAdd(dockerfile.NewCommand("groupadd", "app")); ok {
		t.Error("groupadd parsed as useradd")
	}
}
