package policy

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
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
	// GaveUp: the engine stopped retrying a call that reached the node,
	// for Reason; Err is what the caller gets (before any fallback).
	GaveUp
	// BreakerChanged: the breaker of Node went From -> To.
	BreakerChanged
	// Refused: the breaker or the limiter refused a call before any of
	// its attempts reached the node (Reason CircuitOpen or RateLimited).
	Refused
	// FallbackUsed: the fallback ran for Err.
	FallbackUsed
	// Swallowed: a log-and-continue command's failure Err was logged and
	// the call reported success.
	Swallowed
	// Recovered: a call whose first attempt failed succeeded at Attempt;
	// Class and Err are the last failure before it.
	Recovered
)

var eventNames = [...]string{"", "retry scheduled", "gave up", "breaker changed", "refused", "fallback used", "error swallowed", "recovered"}

// String names the event kind, for example "retry scheduled".
func (k EventKind) String() string {
	if int(k) < len(eventNames) && k != 0 {
		return eventNames[k]
	}
	return "unknown"
}

// Event is one decision of the engine, given to the [Observe] function and
// the [Logger]. Fields that do not apply to a kind are zero.
type Event struct {
	Kind EventKind
	// Command is the lowercase command name, "pipeline" or "multi"; empty
	// for BreakerChanged.
	Command string
	// Node is the node's address, when known: always for BreakerChanged,
	// and for calls on a plain or Sentinel client or a cluster node.
	Node string
	// Attempt is the number of attempts made so far, the first included:
	// 1 when the first attempt failed, and 0 for a call refused before its
	// first attempt (Refused).
	Attempt int
	// Delay is the wait before the retry, for RetryScheduled.
	Delay time.Duration
	// Class is the class of Err.
	Class retryable.Class
	// Err is the failure: the attempt's error for RetryScheduled, the
	// caller's error otherwise.
	Err error
	// Reason is why the engine stopped, for GaveUp, Refused, FallbackUsed
	// and Swallowed.
	Reason Reason
	// From and To are the breaker's states, for BreakerChanged.
	From, To breaker.State
}

// LogValue renders the event as a group of the attributes that apply to
// its kind, so that slog.Any("event", e) logs only those.
func (e Event) LogValue() slog.Value { return slog.GroupValue(e.attrs()...) }

func (e Event) attrs() []slog.Attr {
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs, slog.String("event", e.Kind.String()))
	if e.Command != "" {
		attrs = append(attrs, slog.String("command", e.Command))
	}
	if e.Node != "" {
		attrs = append(attrs, slog.String("node", e.Node))
	}
	switch e.Kind {
	case BreakerChanged:
		return append(attrs, slog.String("from", e.From.String()), slog.String("to", e.To.String()))
	case RetryScheduled:
		attrs = append(attrs, slog.Int("attempt", e.Attempt), slog.Duration("delay", e.Delay))
	case Recovered:
		attrs = append(attrs, slog.Int("attempt", e.Attempt))
	default:
		attrs = append(attrs, slog.Int("attempt", e.Attempt), slog.String("reason", e.Reason.String()))
	}
	attrs = append(attrs, slog.String("class", e.Class.String()))
	if e.Err != nil {
		attrs = append(attrs, slog.String("error", e.Err.Error()))
	}
	return attrs
}

// reasonKeys name the reasons in a summary's attributes.
var reasonKeys = func() (keys [len(reasonNames)]string) {
	for i, n := range reasonNames {
		b := []byte(n)
		for j, c := range b {
			if c == ' ' {
				b[j] = '_'
			}
		}
		keys[i] = string(b)
	}
	return keys
}()

// SummaryInterval is how often, at most, a [Logger] writes a summary of
// the decisions it has not logged above Debug, while they keep coming; a
// breaker that closes writes one at once.
const SummaryInterval = 10 * time.Second

// observer is one Observe function. Copies of a policy made with With
// share the one they inherit, so that a breaker's change reaches each
// function once.
type observer struct{ f func(Event) }

// logSink is one Logger with its summary. It is safe for concurrent use.
type logSink struct {
	logger *slog.Logger
	now    func() time.Time

	// The summary of per-call events since the last one was written.
	since  atomic.Int64 // unix ns of the first event counted, 0 when none
	counts [Recovered + 1]atomic.Int64
	why    [ConnBroken + 1]atomic.Int64
	mu     sync.Mutex // serialises writing a summary
	last   atomic.Pointer[string]
}

func newLogSink(l *slog.Logger) *logSink {
	if l == nil {
		return nil
	}
	return &logSink{logger: l, now: time.Now}
}

// emit reports e to a policy's observer and logger, either of which may
// be nil.
func emit(ctx context.Context, o *observer, l *logSink, e Event) {
	if o != nil {
		o.f(e)
	}
	if l != nil {
		l.log(ctx, e)
	}
}

// log writes breaker changes as they happen and counts every other event
// for the summary, logging it alone at Debug only.
func (s *logSink) log(ctx context.Context, e Event) {
	l := s.logger
	if e.Kind == BreakerChanged {
		level := slog.LevelDebug // half-open, and re-opened after a failed probe
		switch {
		case e.To == breaker.Open && e.From == breaker.Closed:
			level = slog.LevelWarn
		case e.To == breaker.Closed:
			level = slog.LevelInfo
		}
		l.LogAttrs(ctx, level, "retryable: breaker "+e.To.String(), e.attrs()...)
		if e.To == breaker.Closed {
			s.summarize(ctx, true)
		}
		return
	}
	if l.Enabled(ctx, slog.LevelDebug) {
		l.LogAttrs(ctx, slog.LevelDebug, "retryable: "+e.Kind.String(), e.attrs()...)
	}
	now := s.now().UnixNano()
	s.since.CompareAndSwap(0, now)
	if int(e.Kind) < len(s.counts) {
		s.counts[e.Kind].Add(1)
	}
	if e.Kind != RetryScheduled && e.Kind != Recovered && int(e.Reason) < len(s.why) {
		s.why[e.Reason].Add(1)
	}
	if e.Err != nil && e.Kind != RetryScheduled && e.Kind != Recovered {
		msg := e.Err.Error()
		s.last.Store(&msg)
	}
	if since := s.since.Load(); since != 0 && now-since >= int64(SummaryInterval) {
		s.summarize(ctx, false)
	}
}

// summarize writes the summary of the events counted since the last one,
// if any: at Warn when calls failed, at Info when they were only retried.
func (s *logSink) summarize(ctx context.Context, closing bool) {
	if !s.mu.TryLock() {
		return // another goroutine is writing it
	}
	defer s.mu.Unlock()
	since := s.since.Swap(0)
	if since == 0 {
		return
	}
	var n [len(s.counts)]int64
	total := int64(0)
	for k := range s.counts {
		n[k] = s.counts[k].Swap(0)
		total += n[k]
	}
	var reasons []slog.Attr
	for r := range s.why {
		if c := s.why[r].Swap(0); c > 0 {
			reasons = append(reasons, slog.Int64(reasonKeys[r], c))
		}
	}
	if total == 0 {
		return
	}
	level := slog.LevelWarn
	if n[GaveUp]+n[Refused]+n[Swallowed]+n[FallbackUsed] == 0 {
		level = slog.LevelInfo
	}
	attrs := []slog.Attr{
		slog.Duration("over", time.Duration(s.now().UnixNano()-since).Round(time.Millisecond)),
		slog.Int64("retries", n[RetryScheduled]),
		slog.Int64("recovered", n[Recovered]),
		slog.Int64("gave_up", n[GaveUp]),
		slog.Int64("refused", n[Refused]),
		slog.Int64("fallbacks", n[FallbackUsed]),
		slog.Int64("swallowed", n[Swallowed]),
	}
	if len(reasons) > 0 {
		attrs = append(attrs, slog.Attr{Key: "reasons", Value: slog.GroupValue(reasons...)})
	}
	if last := s.last.Swap(nil); last != nil {
		attrs = append(attrs, slog.String("last_error", *last))
	}
	msg := "retryable: summary"
	if closing {
		msg = "retryable: summary of the outage"
	}
	s.logger.LogAttrs(ctx, level, msg, attrs...)
}
