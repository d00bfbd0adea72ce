package program

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Output is the writer of a program whose lines come from more than one
// goroutine: a policy's logger and observer hear a breaker's changes on
// the goroutine of the breaker's own probe, not on the caller's. It
// serialises writes, one whole line or log record each, and remembers
// what was written so that WaitFor can wait for a line. It is safe for
// concurrent use.
type Output struct {
	mu      sync.Mutex
	w       io.Writer
	text    strings.Builder
	written chan struct{} // closed and replaced at every write
}

// NewOutput returns an Output that writes to w.
func NewOutput(w io.Writer) *Output {
	return &Output{w: w, written: make(chan struct{})}
}

// Write writes p to the underlying writer, after any write in progress.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.text.Write(p)
	close(o.written)
	o.written = make(chan struct{})
	return o.w.Write(p)
}

// Printf formats a line and writes it at once.
func (o *Output) Printf(format string, args ...any) {
	_, _ = o.Write(fmt.Appendf(nil, format, args...))
}

// WaitFor waits until something written contains s, or ctx is done. A
// program uses it to wait for a record that a breaker's probe logs (a
// breaker closing, the summary of an outage) before it writes on.
func (o *Output) WaitFor(ctx context.Context, s string) error {
	for {
		o.mu.Lock()
		found := strings.Contains(o.text.String(), s)
		written := o.written
		o.mu.Unlock()
		if found {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %q in the output: %w", s, ctx.Err())
		case <-written:
		}
	}
}
