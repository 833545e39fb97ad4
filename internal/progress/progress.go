package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Bar reports the progress of work made of Total units. The zero value is a
// silent bar; use New to draw on a terminal. Bar is not safe for concurrent
// use.
type Bar struct {
	w     io.Writer
	label string
	total int
	done  int
	start time.Time
	last  time.Time
	// Extra, if set, is appended to the line (e.g. "loss 0.31").
	Extra func() string
}

// New returns a bar writing to w when w is a terminal and the CI
// environment variable is unset; otherwise a silent bar.
func New(w io.Writer, label string, total int) *Bar {
	b := &Bar{label: label, total: total, start: time.Now()}
	if IsTerminal(w) && os.Getenv("CI") == "" {
		b.w = w
	}
	return b
}

// IsTerminal reports whether w is an *os.File attached to a character device.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Add records n more finished units and redraws at most ten times a second.
func (b *Bar) Add(n int) {
	b.done += n
	if b.w == nil {
		return
	}
	now := time.Now()
	if now.Sub(b.last) < 100*time.Millisecond && b.done < b.total {
		return
	}
	b.last = now
	b.draw(now)
}

func (b *Bar) draw(now time.Time) {
	const width = 30
	frac := 0.0
	if b.total > 0 {
		frac = min(float64(b.done)/float64(b.total), 1)
	}
	fill := int(frac * width)
	el := now.Sub(b.start)
	eta := "?"
	if frac > 0 {
		eta = (time.Duration(float64(el)/frac) - el).Round(time.Second).String()
	}
	rate := float64(b.done) / el.Seconds()
	line := fmt.Sprintf("\r%s [%s%s] %d/%d %.0f/s ETA %s", b.label,
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), b.done, b.total, rate, eta)
	if b.Extra != nil {
		line += " " + b.Extra()
	}
	fmt.Fprint(b.w, line+"\x1b[K")
}

// Done finishes the line.
func (b *Bar) Done() {
	if b.w == nil {
		return
	}
	b.draw(time.Now())
	fmt.Fprintln(b.w)
}
