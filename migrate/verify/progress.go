package verify

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// reporter shows what verify is doing. In plain mode every event is one
// line, "[service] message". In live mode (a terminal) it keeps one status
// line per service at the bottom of the screen, redrawn in place, with the
// detail lines scrolling above it.
type reporter struct {
	mu       sync.Mutex
	w        io.Writer
	live     bool
	order    []string
	services map[string]*status
	drawn    int // status lines currently on screen
	stop     chan struct{}
	stopped  sync.WaitGroup
	now      func() time.Time
}

// status is one service's line: what runs now (with when it started), or
// its result once finished.
type status struct {
	active map[string]time.Time
	result string
}

func newReporter(w io.Writer, live bool, services []string) *reporter {
	if w == nil {
		w, live = io.Discard, false
	}
	p := &reporter{w: w, live: live, services: map[string]*status{}, now: time.Now}
	for _, s := range services {
		if _, dup := p.services[s]; !dup {
			p.order = append(p.order, s)
			p.services[s] = &status{active: map[string]time.Time{}}
		}
	}
	if live {
		// Redraw every second so the elapsed times move.
		p.stop = make(chan struct{})
		p.stopped.Add(1)
		go func() {
			defer p.stopped.Done()
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-p.stop:
					return
				case <-t.C:
					p.mu.Lock()
					p.redraw("")
					p.mu.Unlock()
				}
			}
		}()
	}
	return p
}

// close stops the redraw and leaves the final status lines on screen.
func (p *reporter) close() {
	if p.stop != nil {
		close(p.stop)
		p.stopped.Wait()
		p.stop = nil
	}
}

// logf writes a detail line.
func (p *reporter) logf(service, format string, args ...any) {
	line := fmt.Sprintf("[%s] %s", service, fmt.Sprintf(format, args...))
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live {
		p.redraw(line)
		return
	}
	fmt.Fprintln(p.w, line)
}

// begin and end mark a step (building original, running, ...) of a service.
func (p *reporter) begin(service, step string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st := p.services[service]; st != nil {
		st.active[step] = p.now()
		p.redraw("")
	}
}

func (p *reporter) end(service, step string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st := p.services[service]; st != nil {
		delete(st.active, step)
		p.redraw("")
	}
}

// finish records a service's result.
func (p *reporter) finish(service, result string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st := p.services[service]; st != nil {
		st.result = result
		clear(st.active)
		p.redraw("")
	}
}

// redraw (live mode, p.mu held) moves the cursor back over the status
// block, prints line above it when not empty, and draws the block again.
func (p *reporter) redraw(line string) {
	if !p.live {
		return
	}
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn)
	}
	b.WriteString("\x1b[J") // clear to the end of the screen
	if line != "" {
		b.WriteString(line + "\n")
	}
	width := 0
	for _, s := range p.order {
		width = max(width, len(s))
	}
	for _, s := range p.order {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, s, p.services[s].line(p.now()))
	}
	p.drawn = len(p.order)
	io.WriteString(p.w, b.String())
}

func (st *status) line(now time.Time) string {
	if st.result != "" {
		return st.result
	}
	if len(st.active) == 0 {
		return "waiting"
	}
	steps := make([]string, 0, len(st.active))
	for step, since := range st.active {
		steps = append(steps, fmt.Sprintf("%s (%ds)", step, int(now.Sub(since).Seconds())))
	}
	sort.Strings(steps)
	return strings.Join(steps, ", ")
}
