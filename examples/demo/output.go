package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// syncWriter serializes writes from the readers, the breaker callbacks and
// the main goroutine, so lines never interleave.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) printf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format, args...)
}

// prefixWriter indents the lines of a slog handler, which writes one whole
// record per Write.
type prefixWriter struct {
	out    *syncWriter
	prefix string
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	if _, err := p.out.Write(append([]byte(p.prefix), b...)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// dropTime removes the time from slog records, to keep the demo's output
// short.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// firstOfKind is a slog.Handler that passes on the first record of each
// kind (level, message, command, class and reason) and drops the repeats,
// so the identical warnings of an outage print a handful of lines. It
// drops the policy's breaker records ("retryable: breaker open", ...) too:
// the demo's observer narrates every transition. It is safe for concurrent use.
type firstOfKind struct {
	next slog.Handler
	seen *sync.Map
}

func newFirstOfKind(next slog.Handler) *firstOfKind {
	return &firstOfKind{next: next, seen: new(sync.Map)}
}

func (f *firstOfKind) Enabled(ctx context.Context, l slog.Level) bool {
	return f.next.Enabled(ctx, l)
}

func (f *firstOfKind) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "retryable: breaker ") {
		return nil
	}
	key := r.Level.String() + "|" + r.Message
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "command", "class", "reason":
			key += "|" + a.Value.String()
		}
		return true
	})
	if _, dup := f.seen.LoadOrStore(key, struct{}{}); dup {
		return nil
	}
	return f.next.Handle(ctx, r)
}

func (f *firstOfKind) WithAttrs(as []slog.Attr) slog.Handler {
	return &firstOfKind{next: f.next.WithAttrs(as), seen: f.seen}
}

func (f *firstOfKind) WithGroup(name string) slog.Handler {
	return &firstOfKind{next: f.next.WithGroup(name), seen: f.seen}
}
