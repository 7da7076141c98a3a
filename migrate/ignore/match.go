package ignore

import (
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/moby/patternmatcher"
)

// compiled is one ignore pattern, compiled once for the process: the
// default patterns are the same for every build, and a plan of a thousand
// builds compiled each of them to a regexp again per build, twice per
// check of the kept paths (patternmatcher compiles a pattern on its first
// match, in the matcher New made).
type compiled struct {
	// exclusion is true for a "!" line.
	exclusion bool
	// body matches the pattern without its "!" (nil for a line
	// patternmatcher skips, a blank one, and when broken). It is a
	// matcher of that one pattern, compiled before it is shared.
	body *patternmatcher.PatternMatcher
	// newErr is patternmatcher.New's error for the pattern (its syntax).
	newErr error
	// broken is true when the pattern does not compile to a regexp (a
	// matcher holding it never matches), or is an exclusion whose body
	// cannot be matched on its own.
	broken bool
}

var (
	compiledPatterns  sync.Map // pattern → *compiled
	compiledPatternsN atomic.Int64
)

// maxCompiled bounds compiledPatterns, as maxNormalized bounds normalized.
const maxCompiled = 1 << 14

// compilePattern returns p compiled, as patternmatcher.New reads it.
func compilePattern(p string) *compiled {
	if c, ok := compiledPatterns.Load(p); ok {
		return c.(*compiled)
	}
	c := newCompiled(p)
	if compiledPatternsN.Load() < maxCompiled {
		if prev, loaded := compiledPatterns.LoadOrStore(p, c); loaded {
			return prev.(*compiled)
		}
		compiledPatternsN.Add(1)
	}
	return c
}

func newCompiled(p string) *compiled {
	pm, err := patternmatcher.New([]string{p})
	if err != nil {
		return &compiled{newErr: err}
	}
	pats := pm.Patterns()
	if len(pats) == 0 {
		return &compiled{}
	}
	c := &compiled{exclusion: pats[0].Exclusion(), body: pm}
	if c.exclusion {
		// The body as New keeps it; New reads it back unchanged when it is
		// trimmed, clean and not itself a "!" pattern. Otherwise (no
		// pattern Generate writes or normalize returns) the line has no
		// one-pattern matcher, and matchList falls back to New.
		body := pats[0].String()
		if body == "" || body[0] == '!' || strings.TrimSpace(body) != body || filepath.Clean(body) != body {
			return &compiled{exclusion: true, broken: true}
		}
		if c.body, err = patternmatcher.New([]string{body}); err != nil {
			return &compiled{exclusion: true, broken: true}
		}
	}
	// patternmatcher compiles a pattern on its first match and is not safe
	// for concurrent use until then: compile it before it is shared.
	if _, err := c.body.MatchesOrParentMatches("x"); err != nil {
		return &compiled{exclusion: c.exclusion, broken: true}
	}
	return c
}

// matchList is an ordered list of patterns, matched as a
// patternmatcher.PatternMatcher of the same patterns matches.
type matchList struct {
	pats []*compiled
	// whole is the matcher of the patterns made by patternmatcher.New,
	// used when a pattern could not be compiled on its own.
	whole *patternmatcher.PatternMatcher
}

// newMatchList compiles patterns; the error is patternmatcher.New's.
func newMatchList(patterns []string) (*matchList, error) {
	m := &matchList{pats: make([]*compiled, 0, len(patterns))}
	for _, p := range patterns {
		c := compilePattern(p)
		if c.newErr != nil || c.broken {
			pm, err := patternmatcher.New(patterns)
			if err != nil {
				return nil, err
			}
			return &matchList{whole: pm}, nil
		}
		if c.body != nil {
			m.pats = append(m.pats, c)
		}
	}
	return m, nil
}

// excludedBy reports whether the one pattern c, read as an inclusion,
// matches p or a parent directory of p.
func excludedBy(c *compiled, p string) bool {
	return c.body != nil && !c.broken && excluded(c.body, p)
}

// excludes reports whether the patterns leave p (or a parent of p) out
// of the context: PatternMatcher.MatchesOrParentMatches, false on error.
// Each pattern in turn, as there: an exclusion is tried only once the
// path is matched, an inclusion only while it is not, and a pattern
// matches when it matches the path or one of its parent directories.
func (m *matchList) excludes(p string) bool {
	if m.whole != nil {
		return excluded(m.whole, p)
	}
	matched := false
	for _, c := range m.pats {
		if c.exclusion != matched {
			continue
		}
		ok, err := c.body.MatchesOrParentMatches(p)
		if err != nil {
			return false
		}
		if ok {
			matched = !c.exclusion
		}
	}
	return matched
}
