package dockerfile

import (
	"math/rand"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/composeopt/composeopt/golden/corpus"
)

// editTexts are replacement and insertion texts that stress what a
// partial parse could get wrong: comments that attach to the next
// instruction, blank lines, continuations (one running on into the next
// line), heredocs (one whose terminator is far away), stages.
var editTexts = []string{
	"",
	"RUN echo hi\n",
	"# a comment\nRUN a \\\n  && b\n",
	"\n\n",
	"# only a comment\n",
	"#\n",
	"COPY <<EOF /x\nhello\nEOF\n",
	"RUN cat <<EOF > /y\n",
	"EOF\n",
	"RUN a \\\n",
	"USER app\nHEALTHCHECK CMD [\"true\"]\n",
	"FROM alpine AS extra\nRUN true\n",
	"ENV A=1 \\\n    B=2\n\n# c\n",
	"run lower case\n",
	"  \\\n",
}

// TestEditedMatchesParse: Edited, whatever part of the file it parses
// again, gives what Parse gives for the edited source, on every
// Dockerfile of the golden cases and e2e fixtures and a long one, under
// random edits of whole instructions and insertions between them.
func TestEditedMatchesParse(t *testing.T) {
	files, err := corpus.Dockerfiles("../..")
	if err != nil {
		t.Fatal(err)
	}
	var srcs [][]byte
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, b)
	}
	var long strings.Builder
	long.WriteString("# syntax=docker/dockerfile:1\nFROM node:20 AS build\n")
	for i := 0; i < 300; i++ {
		long.WriteString([]string{"ENV A=1\n", "# note\nRUN a \\\n  b\n", "\nLABEL x=y\n", "COPY <<EOF /f\nbody\nEOF\n"}[i%4])
	}
	srcs = append(srcs, []byte(long.String()), []byte("# escape=`\nFROM x\nRUN a `\n  b\nRUN c\n"))
	rng := rand.New(rand.NewSource(1))
	spliced := 0
	for _, src := range srcs {
		f, err := Parse(src)
		if err != nil {
			continue
		}
		for round := 0; round < 40; round++ {
			edits := randomEdits(rng, f)
			out, err := f.Apply(edits)
			if err != nil {
				t.Fatal(err)
			}
			want, werr := Parse(out)
			got, gerr := f.Edited(edits)
			if (werr != nil) != (gerr != nil) {
				t.Fatalf("Parse error %v, Edited error %v, for edits %+v of\n%s", werr, gerr, edits, src)
			}
			if werr != nil {
				continue
			}
			if f.splice(edits, out) != nil {
				spliced++
			}
			if !reflect.DeepEqual(got, want) {
				for i := range min(len(got.Instructions), len(want.Instructions)) {
					if !reflect.DeepEqual(got.Instructions[i], want.Instructions[i]) {
						t.Logf("first difference: instruction %d: got %+v %+v, want %+v %+v", i, got.Instructions[i], got.Instructions[i].Node, want.Instructions[i], want.Instructions[i].Node)
						break
					}
				}
				t.Fatalf("Edited differs from Parse (%d and %d instructions) for edits %+v of\n%s\nedited:\n%s", len(got.Instructions), len(want.Instructions), edits, src, out)
			}
		}
	}
	if spliced < 200 {
		t.Errorf("only %d edits took the partial parse", spliced)
	}
}

// randomEdits returns one to three non-overlapping edits: replacements of
// whole instructions and insertions before or after one.
func randomEdits(rng *rand.Rand, f *File) []Edit {
	var edits []Edit
	used := map[int]bool{}
	for n := 1 + rng.Intn(3); n > 0; n-- {
		in := f.Instructions[rng.Intn(len(f.Instructions))]
		if used[in.Start] {
			continue
		}
		used[in.Start] = true
		text := editTexts[rng.Intn(len(editTexts))]
		switch rng.Intn(3) {
		case 0:
			edits = append(edits, Replace(in, text))
		case 1:
			edits = append(edits, InsertBefore(in, text))
		default:
			if !used[in.End+1] {
				edits = append(edits, InsertAfter(in, text))
			}
		}
	}
	// Drop edits that overlap an earlier one.
	var out []Edit
	for _, e := range edits {
		ok := true
		for _, o := range out {
			if e.Start <= o.End && o.Start <= e.End || e.Start == o.Start || e.End < e.Start && o.Start <= e.Start && e.Start <= o.End || o.End < o.Start && e.Start <= o.Start && o.Start <= e.End {
				ok = false
			}
		}
		if ok {
			out = append(out, e)
		}
	}
	return out
}
