package policy

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/breaker"
)

// Option configures a policy under construction. Options apply in order;
// an invalid one makes [New] or [Policy.With] return an error that names
// it. The options that may also be given for single commands, inside
// [Command], are [RuleOption]s.
type Option interface {
	apply(*builder) error
}

// RuleOption is an [Option] that may also be given per command, inside
// [Command]: which failures are retried, the limits, the backoff and the
// fallback. Options of the whole policy (breaker, budget, limiter,
// observers, marks) are not RuleOptions, so giving one to Command does
// not compile.
type RuleOption interface {
	Option
	applyRule(*rules) error
}

// optionFunc is an Option of the whole policy.
type optionFunc func(*builder) error

func (o optionFunc) apply(b *builder) error { return o(b) }

// ruleFunc is a RuleOption: it changes the policy's base rules, or one
// command's rules inside Command.
type ruleFunc func(*rules) error

func (o ruleFunc) apply(b *builder) error   { return o(&b.base) }
func (o ruleFunc) applyRule(r *rules) error { return o(r) }

// Cmd is the part of a go-redis command a policy looks at. Every
// redis.Cmder satisfies it, so a [FallbackFunc] can type-assert the
// command it is given (for example to *redis.StringCmd) and set its value.
type Cmd interface {
	Name() string
	Args() []any
}

// FallbackFunc runs when a command fails for good (graceful degradation).
// It receives the final error. Returning nil turns the call into a
// success (after setting the command's value, if the caller reads one);
// returning an error gives that error to the caller instead. It runs on
// the caller's goroutine and must be safe for concurrent use.
type FallbackFunc func(ctx context.Context, cmd Cmd, err error) error

// RetryOn sets the classes that are retried, replacing the previous set.
// A class covers its kinds: RetryOn(retryable.Connection) also retries
// Timeout and BusyLoading. OK, Response, Data, Canceled and Closed are
// never retried and are an error here. Default: none.
func RetryOn(classes ...retryable.Class) RuleOption {
	return ruleFunc(func(r *rules) error {
		for _, cl := range classes {
			if !cl.Valid() {
				return fmt.Errorf("RetryOn: unknown class %d", cl)
			}
			if neverRetried.has(cl) {
				return fmt.Errorf("RetryOn: %v is never retried", cl)
			}
		}
		r.retryOn = setOf(classes...)
		r.abortOn &^= r.retryOn
		return nil
	})
}

// AbortOn sets classes that stop the retries at once, even when RetryOn
// or RetryIf would retry them, replacing the previous set. Use it to carve
// a kind out of a wider class: RetryOn(Connection) with AbortOn(Timeout)
// retries refused connections but not timeouts. Default: none.
func AbortOn(classes ...retryable.Class) RuleOption {
	return ruleFunc(func(r *rules) error {
		for _, cl := range classes {
			if !cl.Valid() {
				return fmt.Errorf("AbortOn: unknown class %d", cl)
			}
		}
		r.abortOn = setOf(classes...)
		r.retryOn &^= r.abortOn
		return nil
	})
}

// RetryIf adds a predicate consulted for failures that RetryOn does not
// retry: returning true retries them (the command-safety rule and every
// limit still apply; OK, Response, Data, Canceled and Closed never reach
// it). It must be cheap, pure and safe for concurrent use. Nil removes it.
func RetryIf(f func(Failure) bool) RuleOption {
	return ruleFunc(func(r *rules) error {
		r.retryIf = f
		return nil
	})
}

// MaxAttempts caps the number of attempts, the first included: 1 means no
// retries (the default). It must be at least 1; there is no "retry
// forever". A cap above 1 needs RetryOn or RetryIf, or nothing would be
// retried: [New] says so.
func MaxAttempts(n int) RuleOption {
	return ruleFunc(func(r *rules) error {
		if n < 1 {
			return fmt.Errorf("MaxAttempts: %d attempts: must be at least 1 (1 means no retries)", n)
		}
		r.maxAttempts = n
		return nil
	})
}

// MaxElapsed caps the time spent retrying, measured from the first
// failure (so the success path never reads the clock). A retry whose delay
// would end past it is not started. Zero, the default, means no cap
// besides the context's deadline.
func MaxElapsed(d time.Duration) RuleOption {
	return durationRule("MaxElapsed", d, func(r *rules) { r.maxElapsed = d })
}

// AttemptTimeout gives each attempt its own deadline, within the caller's.
// It costs a context and a timer per call, so it is off (zero) by
// default; the client's ReadTimeout already bounds each socket read.
func AttemptTimeout(d time.Duration) RuleOption {
	return durationRule("AttemptTimeout", d, func(r *rules) { r.attemptTimeout = d })
}

// durationRule is a RuleOption that sets a duration, which must not be
// negative.
func durationRule(opt string, d time.Duration, set func(*rules)) RuleOption {
	return ruleFunc(func(r *rules) error {
		if d < 0 {
			return fmt.Errorf("%s: negative duration %v", opt, d)
		}
		set(r)
		return nil
	})
}

// Backoff sets the delay before each retry; the strategy is validated
// here. Nil, the default, retries at once.
func Backoff(s backoff.Strategy) RuleOption {
	return ruleFunc(func(r *rules) error {
		if s != nil {
			if err := backoff.Validate(s); err != nil {
				return fmt.Errorf("Backoff: %w", err)
			}
		}
		r.backoff = s
		return nil
	})
}

// RetryAmbiguous lets unsafe commands (INCR, LPUSH, EVAL, ...) be retried
// after a failure that leaves it unknown whether they ran (EOF, reset,
// read timeout). Off by default: such a retry may run the command twice.
// Only set it, usually per [Command], for writes the application
// de-duplicates itself.
func RetryAmbiguous(on bool) RuleOption {
	return ruleFunc(func(r *rules) error {
		r.retryAmbiguous = on
		return nil
	})
}

// Fallback sets the function that runs when a single command fails for
// good: after the last attempt, on a class that is not retried, or when
// the breaker, budget or limiter refuses it. It does not run for OK,
// Response, Data, Canceled or Closed failures, which are the caller's to
// see, nor for pipelines, whose caller reads each command's own error.
// Nil, the default, removes it.
func Fallback(f FallbackFunc) RuleOption {
	return ruleFunc(func(r *rules) error {
		r.fallback = f
		return nil
	})
}

// LogAndContinue makes the named commands swallow a final failure of a
// recoverable class: it is reported as an event (and logged, with the
// policy's Logger), and the call returns nil. Use it for best-effort
// writes such as cache fills. Names are case-insensitive and must be
// commands the table knows (see [KnownCommands]).
func LogAndContinue(names ...string) Option {
	return optionFunc(func(b *builder) error {
		if len(names) == 0 {
			return fmt.Errorf("LogAndContinue: no command named")
		}
		return b.command("LogAndContinue", names, []RuleOption{ruleFunc(func(r *rules) error {
			r.swallow = true
			return nil
		})})
	})
}

// Command applies opts to the named commands only, on top of the policy's
// other settings wherever the options are given:
//
//	policy.Command([]string{"xadd"}, policy.MaxAttempts(1))
//
// makes XADD fail fast while the rest retries. Names are case-insensitive
// and must be commands the table knows (see [KnownCommands]); "pipeline"
// and "multi" name pipelines and MULTI/EXEC transactions. Two Commands
// for one name merge, the later winning.
func Command(names []string, opts ...RuleOption) Option {
	// With re-applies opts; a copy keeps a caller's later change to the
	// slice it passed as opts... out of the policy.
	opts = slices.Clone(opts)
	names = slices.Clone(names)
	return optionFunc(func(b *builder) error { return b.command("Command", names, opts) })
}

// MarkIdempotent tells the policy that the named commands may be run
// twice, beyond the built-in table (for example an EVALSHA script written
// to be idempotent, or a module command). Names are case-insensitive and
// must be known (see [KnownCommands]).
func MarkIdempotent(names ...string) Option {
	return optionFunc(func(b *builder) error { return b.mark("MarkIdempotent", retryable.Idempotent, names) })
}

// MarkUnsafe tells the policy that the named commands must never run
// twice, overriding the built-in table.
func MarkUnsafe(names ...string) Option {
	return optionFunc(func(b *builder) error { return b.mark("MarkUnsafe", retryable.Unsafe, names) })
}

// KnownCommands declares command names the built-in table does not know,
// such as a module's ("json.set", "ft.search"), so that Command,
// MarkIdempotent, MarkUnsafe and LogAndContinue accept them. Any other
// unknown name in those options is taken for a typo and makes [New]
// return an error. Unknown commands are unsafe unless marked.
func KnownCommands(names ...string) Option {
	return optionFunc(func(b *builder) error {
		for _, n := range names {
			n, err := commandName("KnownCommands", n)
			if err != nil {
				return err
			}
			b.known = cloneAdd(b.known, n, true)
		}
		return nil
	})
}

// Observe sets a function that receives every decision the engine makes
// (see [Event]), the breakers' state changes included. It runs
// synchronously on failure paths only, so it must be fast and safe for
// concurrent use. Nil removes it.
func Observe(f func(Event)) Option {
	return optionFunc(func(b *builder) error {
		b.observer, b.sinkChanged = nil, true
		if f != nil {
			b.observer = &observer{f}
		}
		return nil
	})
}

// Logger sets a structured logger for decisions. It is meant to be read by
// a person during an incident: breakers opening (Warn) and closing (Info),
// and a summary (Warn) of the retries, refusals and give-ups of the last
// [SummaryInterval], written when a breaker closes or the interval has
// passed. Each decision is logged on its own at Debug. Nil, the default,
// turns logging off.
func Logger(l *slog.Logger) Option {
	return optionFunc(func(b *builder) error {
		b.logger, b.sinkChanged = newLogSink(l), true
		return nil
	})
}

// Breaker gives every node the policy runs against a circuit breaker with
// these settings (see breaker.Settings for the defaults, made for Redis: a
// short open time that grows while the node stays down). The breakers are
// made here and belong to this policy and every copy made from it with
// [Policy.With], whatever else the copy changes, until a copy sets
// Breaker or NoBreaker again: a node is the same node whichever client or
// copy reaches it. [Policy.Breakers] returns them for operators.
func Breaker(s breaker.Settings) Option {
	return optionFunc(func(b *builder) error {
		if err := s.Validate(); err != nil {
			return fmt.Errorf("Breaker: %w", err)
		}
		b.newBreakers, b.breakersChanged = &s, true
		return nil
	})
}

// NoBreaker removes the policy's circuit breakers.
func NoBreaker() Option {
	return optionFunc(func(b *builder) error {
		b.newBreakers, b.breakersChanged = nil, true
		return nil
	})
}

// Budget makes every retry draw from bu, so that a fleet of goroutines
// and clients cannot multiply an outage. Share one budget between policies
// on purpose; nil removes it.
func Budget(bu *breaker.Budget) Option {
	return optionFunc(func(b *builder) error {
		b.budget = bu
		return nil
	})
}

// Limit admits every attempt (first attempts and retries) through l. Nil
// removes it.
func Limit(l *breaker.Limiter) Option {
	return optionFunc(func(b *builder) error {
		b.limiter = l
		return nil
	})
}
