package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

// Colour: whether output is coloured is decided here (--ansi, NO_COLOR,
// a terminal), and paint is the one way text is coloured.

// color reports whether to colour output written to w.
func (g *globals) color(w io.Writer) bool {
	switch g.ansi {
	case "always":
		return true
	case "never":
		return false
	}
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return false
	}
	return isTerminal(w)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// paint wraps s in the ANSI SGR code (e.g. "31" red, "1" bold) when color
// is set.
func paint(color bool, code, s string) string {
	if !color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}
