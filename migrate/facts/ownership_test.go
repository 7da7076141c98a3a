package facts

import (
	"strings"
	"testing"
)

// TestWriteDoubts: writes to computed paths are doubts, unless the path
// names a variable AppWrites reads; literal paths are AppWrites' own.
func TestWriteDoubts(t *testing.T) {
	cases := []struct {
		name, src string
		want      string // substring of the one doubt ("" = none)
	}{
		{"computed path, nested call", "with open(os.path.join(BASE, 'out.txt'), 'w') as f:\n", "app.py:1: with open(os.path.join(BASE, 'out.txt'), 'w') as f:"},
		{"write variable", "open(os.path.join(app.config['UPLOAD_FOLDER'], name), 'wb')\n", ""},
		{"literal path", "open('report.txt', 'w')\n", ""},
		{"read only", "open(path)\nopen(path, 'r')\n", ""},
		{"sqlite from a variable", "import sqlite3\ndb = sqlite3.connect(db_file)\n", "sqlite3.connect(db_file)"},
		{"log handler to a computed path", "h = logging.FileHandler(log_path)\n", "logging.FileHandler(log_path)"},
		{"basicConfig to a literal path", "logging.basicConfig(level=logging.INFO, filename='app.log')\n", ""},
		{"django sqlite", "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3'}}\n", "django.db.backends.sqlite3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := addWriteDoubts(nil, sourceFile{rel: "app.py", name: "app.py", ext: ".py", data: []byte(c.src)})
			switch {
			case c.want == "" && len(got) > 0:
				t.Errorf("doubts %+v, want none", got)
			case c.want != "" && (len(got) != 1 || !strings.Contains(got[0].evidence, c.want)):
				t.Errorf("doubts %+v, want one containing %q", got, c.want)
			}
		})
	}
	go1 := addWriteDoubts(nil, sourceFile{rel: "main.go", name: "main.go", ext: ".go", data: []byte("os.WriteFile(\"state.json\", b, 0o644)\n")})
	gotest := addWriteDoubts(nil, sourceFile{rel: "main_test.go", name: "main_test.go", ext: ".go", data: []byte("os.WriteFile(\"x\", b, 0o644)\n")})
	if len(go1) != 1 || len(gotest) != 0 {
		t.Errorf("Go: %+v (want one), test file: %+v (want none)", go1, gotest)
	}
}
