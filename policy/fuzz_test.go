package policy_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/policy"
)

// fuzzOptions turns fuzz bytes into a list of options, valid or not, with
// per-command options nested in Command up to depth.
type fuzzOptions struct {
	data []byte
}

func (r *fuzzOptions) byte() byte {
	if len(r.data) == 0 {
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
}

// duration is a small duration, negative about half the time.
func (r *fuzzOptions) duration() time.Duration {
	return time.Duration(int8(r.byte())) * time.Millisecond
}

func (r *fuzzOptions) classes() []retryable.Class {
	n := int(r.byte() % 4)
	cs := make([]retryable.Class, n)
	for i := range cs {
		cs[i] = retryable.Class(r.byte() % (uint8(len(retryable.Classes())) + 2)) // some unknown
	}
	return cs
}

var fuzzNames = []string{"get", "GET", " xadd ", "incr", "pipeline", "multi", "evalsha", "", "  "}

func (r *fuzzOptions) names() []string {
	n := int(r.byte() % 3)
	ns := make([]string, n)
	for i := range ns {
		ns[i] = fuzzNames[int(r.byte())%len(fuzzNames)]
	}
	return ns
}

func (r *fuzzOptions) strategy() backoff.Strategy {
	switch r.byte() % 6 {
	case 0:
		return nil
	case 1:
		return backoff.Constant(r.duration())
	case 2:
		return backoff.NewExponential(r.duration(), r.duration(), float64(int8(r.byte()))/16)
	case 3:
		return backoff.FullJitter(backoff.NewExponential(r.duration(), r.duration(), 2))
	case 4:
		return backoff.NewLinear(r.duration(), r.duration(), r.duration())
	default:
		return backoff.NewDecorrelated(r.duration(), r.duration())
	}
}

func (r *fuzzOptions) list(depth int) []policy.Option {
	n := int(r.byte() % 6)
	opts := make([]policy.Option, 0, n)
	for range n {
		opts = append(opts, r.option(depth))
	}
	return opts
}

// rules returns up to five options valid inside Command.
func (r *fuzzOptions) rules() []policy.RuleOption {
	n := int(r.byte() % 6)
	opts := make([]policy.RuleOption, 0, n)
	for range n {
		if o, ok := r.option(2).(policy.RuleOption); ok {
			opts = append(opts, o)
		}
	}
	return opts
}

func (r *fuzzOptions) option(depth int) policy.Option {
	switch r.byte() % 24 {
	case 0:
		return policy.RetryOn(r.classes()...)
	case 1:
		return policy.AbortOn(r.classes()...)
	case 2:
		return policy.MaxAttempts(int(int8(r.byte())))
	case 3:
		return policy.MaxElapsed(r.duration())
	case 4:
		return policy.AttemptTimeout(r.duration())
	case 5:
		return policy.Backoff(r.strategy())
	case 6:
		return policy.RetryAmbiguous(r.byte()%2 == 0)
	case 7:
		if r.byte()%2 == 0 {
			return policy.RetryIf(nil)
		}
		return policy.RetryIf(func(f policy.Failure) bool { return f.Attempt%2 == 1 })
	case 8:
		if depth > 1 {
			return policy.MaxAttempts(2)
		}
		return policy.Command(r.names(), r.rules()...)
	case 9:
		return policy.MarkIdempotent(r.names()...)
	case 10:
		return policy.MarkUnsafe(r.names()...)
	case 11:
		return policy.Breaker(breaker.Settings{ConsecutiveFailures: uint32(r.byte() % 4),
			FailureRatio: float64(r.byte()) / 128, OpenTimeout: r.duration(), Interval: r.duration()})
	case 12:
		return policy.NoBreaker()
	case 13:
		if r.byte()%2 == 0 {
			return policy.Observe(nil)
		}
		return policy.Observe(func(policy.Event) {})
	case 14:
		if r.byte()%2 == 0 {
			return policy.Logger(nil)
		}
		return policy.Logger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	case 15:
		return policy.Budget(nil)
	case 16:
		return policy.Limit(nil)
	case 17:
		return nil
	case 18:
		if r.byte()%2 == 0 {
			return policy.Fallback(nil)
		}
		return policy.Fallback(func(context.Context, policy.Cmd, error) error { return nil })
	case 19:
		return policy.LogAndContinue(r.names()...)
	case 20:
		return policy.Backoff(backoff.Func(func(a int, prev time.Duration) time.Duration { return prev - time.Duration(a) }))
	case 21:
		return policy.Backoff(negative{})
	case 22:
		return policy.RetryOn(retryable.Connection, retryable.CircuitOpen)
	default:
		return policy.MaxAttempts(1 + int(r.byte()%5))
	}
}

func FuzzNew(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 0, 2, 22, 5, 3, 2, 10, 20, 2})
	f.Add([]byte{2, 2, 0, 5, 2, 10, 5})                  // MaxAttempts(0), invalid exponential
	f.Add([]byte{2, 8, 1, 0, 1, 13, 1})                  // Command with Observe inside
	f.Add([]byte{4, 22, 23, 4, 11, 1, 0, 0, 0, 3, 0, 1}) // Breaker
	f.Add([]byte{1, 17})
	f.Add([]byte{3, 8, 2, 0, 1, 2, 2, 23, 4, 0, 1, 3})
	f.Add([]byte{5, 0, 3, 1, 9, 13, 1, 2, 4, 1, 3, 1, 10, 21})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &fuzzOptions{data: data}
		opts := r.list(0)
		more := r.list(0)

		p, err := policy.New(opts...)
		checkPolicy(t, "New", p, err)
		if err == nil {
			q, err := p.With(more...)
			checkPolicy(t, "With", q, err)
		}
		q, err := policy.Default().With(opts...)
		checkPolicy(t, "Default().With", q, err)
	})
}

var fuzzCommands = []string{"get", "xadd", "incr", "pipeline", "multi", "evalsha", "unknown", ""}

var fuzzErrs = []error{nil, io.EOF, &breaker.OpenError{Node: "n", RetryIn: time.Second},
	&breaker.ThrottledError{Reason: breaker.ReasonBudget, Last: io.EOF}}

// checkPolicy fails unless err is a policy error or p decides every failure
// without panicking or returning a negative delay.
func checkPolicy(t *testing.T, how string, p policy.Policy, err error) {
	t.Helper()
	if err != nil {
		if !strings.HasPrefix(err.Error(), "policy: ") {
			t.Fatalf("%s: error %q does not start with the package name", how, err)
		}
		return
	}
	if n := policy.MaxAttemptsOf(p, "get"); n < 1 {
		t.Fatalf("%s: MaxAttempts = %d", how, n)
	}
	classes := append(retryable.Classes(), retryable.Class(len(retryable.Classes())), 255)
	for _, cmd := range fuzzCommands {
		policy.LookupOf(p, []any{cmd, "k"})
		for _, cl := range classes {
			for _, ex := range executions {
				for _, k := range kinds {
					for _, attempt := range []int{-1, 0, 1, 2, 7} {
						for _, err := range fuzzErrs {
							f := policy.Failure{Command: cmd, Attempt: attempt, Err: err, Class: cl, Execution: ex,
								Info: retryable.Info{Kind: k, Blocking: attempt == 2}, Elapsed: time.Duration(attempt) * time.Millisecond}
							d, why := p.Decide(f, time.Duration(attempt)*time.Millisecond)
							if d < 0 {
								t.Fatalf("%s: Decide(%+v) = %v, %v: negative delay", how, f, d, why)
							}
							if why != policy.Retry && d != 0 {
								t.Fatalf("%s: Decide(%+v) = %v, %v: a delay without a retry", how, f, d, why)
							}
							if why == policy.Retry && (cl == retryable.OK || cl == retryable.Response || cl == retryable.Data ||
								cl == retryable.Canceled || cl == retryable.Closed) {
								t.Fatalf("%s: Decide(%+v) retries a class that is never retried", how, f)
							}
							if why == policy.Retry && k == retryable.Unsafe && ex == retryable.Completed {
								t.Fatalf("%s: Decide(%+v) retries an unsafe command that completed", how, f)
							}
							if why == policy.Retry && attempt >= policy.MaxAttemptsOf(p, cmd) {
								t.Fatalf("%s: Decide(%+v) retries past MaxAttempts %d", how, f, policy.MaxAttemptsOf(p, cmd))
							}
						}
					}
				}
			}
		}
	}
}
