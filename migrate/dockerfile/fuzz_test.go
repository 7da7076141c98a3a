package dockerfile

import "testing"

// FuzzRoundTrip: whatever BuildKit parses renders back byte-for-byte
// without edits, and every instruction's line range lies inside the file.
func FuzzRoundTrip(f *testing.F) {
	for _, seed := range []string{
		"FROM alpine\nRUN a \\\n  && b\nCMD [\"x\"]\n",
		"# escape=`\r\nFROM x\r\nRUN a `\r\n  b\r\n",
		"FROM alpine\nRUN <<EOF\necho hi\nEOF\n",
		"ARG V=1\nFROM alpine:$V AS base\nFROM base\n# trailing comment",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		df, err := Parse([]byte(src))
		if err != nil {
			return
		}
		out, err := df.Apply(nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != src {
			t.Fatalf("render changed the text:\n%q\n%q", src, out)
		}
		for _, in := range df.Instructions {
			if in.Start < 1 || in.End < in.Start || in.End > len(df.Lines) {
				t.Fatalf("%s: range %d-%d outside %d lines", in.Cmd, in.Start, in.End, len(df.Lines))
			}
		}
	})
}
