package policy

import (
	"context"
	"log/slog"
	"time"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
)

// EventKind names a decision the engine made.
type EventKind uint8

// The events.
const (
	// RetryScheduled: a failed attempt will be retried after Delay.
	RetryScheduled EventKind = iota + 1
	// GaveUp: the engine stopped retrying for Reason; Err is what the
	// caller gets (before any fallback).
	GaveUp
	// BreakerChanged: the breaker of Node went From -> To.
	BreakerChanged
	// Refused: the breaker, budget or limiter refused a call (Err says which).
	Refused
	// FallbackUsed: the fallback ran for Err.
	FallbackUsed
	// Swallowed: a log-and-continue command's failure Err was logged and the
	// call reported success.
	Swallowed
)

var eventNames = [...]string{"", "retry scheduled", "gave up", "breaker changed", "refused", "fallback used", "error swallowed"}

// String names the event kind.
func (k EventKind) String() string {
	if int(k) < len(eventNames) && k != 0 {
		return eventNames[k]
	}
	return "unknown"
}

// Event is one decision of the engine, given to the [Observe] function and
// the [Logger]. Fields that do not apply to a kind are zero.
type Event struct {
	Kind    EventKind
	Command string // lowercase command name, "pipeline" or "multi"
	Node    string // node address, for breaker events and refusals when known
	Attempt int    // attempts made so far
	Delay   time.Duration
	Class   retryable.Class
	Err     error
	Reason  Reason
	From    breaker.State
	To      breaker.State
}

func (e Event) log(ctx context.Context, l *slog.Logger) {
	level := slog.LevelWarn
	switch e.Kind {
	case RetryScheduled:
		level = slog.LevelDebug
	case BreakerChanged:
		level = slog.LevelInfo
	}
	if !l.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 8)
	if e.Command != "" {
		attrs = append(attrs, slog.String("command", e.Command))
	}
	if e.Node != "" {
		attrs = append(attrs, slog.String("node", e.Node))
	}
	switch e.Kind {
	case RetryScheduled:
		attrs = append(attrs, slog.Int("attempt", e.Attempt), slog.Duration("delay", e.Delay),
			slog.String("class", e.Class.String()), slog.Any("error", e.Err))
	case GaveUp:
		attrs = append(attrs, slog.Int("attempt", e.Attempt), slog.String("reason", e.Reason.String()),
			slog.String("class", e.Class.String()), slog.Any("error", e.Err))
	case BreakerChanged:
		attrs = append(attrs, slog.String("from", e.From.String()), slog.String("to", e.To.String()))
	default:
		attrs = append(attrs, slog.String("class", e.Class.String()), slog.Any("error", e.Err))
	}
	l.LogAttrs(ctx, level, "retryable: "+e.Kind.String(), attrs...)
}

func newGroup(s breaker.Settings, observer func(Event), logger *slog.Logger) (*breaker.Group, error) {
	user := s.OnStateChange
	if observer != nil || logger != nil {
		s.OnStateChange = func(node string, from, to breaker.State) {
			if user != nil {
				user(node, from, to)
			}
			e := Event{Kind: BreakerChanged, Node: node, From: from, To: to}
			if observer != nil {
				observer(e)
			}
			if logger != nil {
				e.log(context.Background(), logger)
			}
		}
	}
	return breaker.NewGroup(s)
}
