package policy_test

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/policy"
)

var (
	executions = []retryable.Execution{retryable.NotExecuted, retryable.Ambiguous, retryable.Completed}
	kinds      = []retryable.Kind{retryable.Unsafe, retryable.Idempotent, retryable.Read}
	// recoverable are the classes a policy may retry.
	recoverable = []retryable.Class{retryable.Connection, retryable.Timeout, retryable.BusyLoading, retryable.ReadOnly,
		retryable.ClusterDown, retryable.Busy, retryable.Capacity, retryable.CircuitOpen, retryable.Throttled}
	// neverRetried are the classes no policy retries.
	neverRetried = []retryable.Class{retryable.OK, retryable.Response, retryable.Data, retryable.Canceled, retryable.Closed}
)

const step = 10 * time.Millisecond

// retryAll retries every class it may, 3 attempts, a constant 10ms apart.
func retryAll(t testing.TB, extra ...policy.Option) policy.Policy {
	t.Helper()
	return mustNew(t, append([]policy.Option{policy.RetryOn(recoverable...), policy.MaxAttempts(3),
		policy.Backoff(backoff.Constant(step))}, extra...)...)
}

func TestDecideNeverRetried(t *testing.T) {
	always := policy.RetryIf(func(policy.Failure) bool { return true })
	for _, p := range []struct {
		name string
		p    policy.Policy
	}{
		{"RetryOn everything", retryAll(t)},
		{"RetryIf always", retryAll(t, always)},
		{"RetryIf always, RetryAmbiguous", retryAll(t, always, policy.RetryAmbiguous(true))},
		{"zero Policy", policy.Policy{}},
		{"Default", policy.Default()},
	} {
		for _, cl := range neverRetried {
			for _, ex := range executions {
				for _, k := range kinds {
					for _, blocking := range []bool{false, true} {
						f := policy.Failure{Command: "get", Attempt: 1, Err: io.EOF, Class: cl, Execution: ex,
							Info: retryable.Info{Kind: k, Blocking: blocking}}
						if d, why := p.p.Decide(f, 0); d != 0 || why != policy.NotRetryable {
							t.Errorf("%s: %v %v %v blocking=%v: Decide = %v, %v; want 0, %v",
								p.name, cl, ex, k, blocking, d, why, policy.NotRetryable)
						}
					}
				}
			}
		}
	}
}

// TestDecideSafety is the command-safety rule for every retried class,
// execution and kind.
func TestDecideSafety(t *testing.T) {
	plain := retryAll(t)
	ambiguousOK := retryAll(t, policy.RetryAmbiguous(true))
	for _, cl := range recoverable {
		for _, ex := range executions {
			for _, k := range kinds {
				want, wantAmbiguousOK := policy.Retry, policy.Retry
				if k == retryable.Unsafe {
					switch ex {
					case retryable.Ambiguous:
						want = policy.Unsafe
					case retryable.Completed:
						want, wantAmbiguousOK = policy.Unsafe, policy.Unsafe
					}
				}
				f := policy.Failure{Command: "cmd", Attempt: 1, Class: cl, Execution: ex, Info: retryable.Info{Kind: k}}
				name := fmt.Sprintf("%v/%v/%v", cl, ex, k)
				for _, c := range []struct {
					p    policy.Policy
					want policy.Reason
					what string
				}{{plain, want, ""}, {ambiguousOK, wantAmbiguousOK, " RetryAmbiguous"}} {
					d, why := c.p.Decide(f, 0)
					wantD := time.Duration(0)
					if c.want == policy.Retry {
						wantD = step
					}
					if why != c.want || d != wantD {
						t.Errorf("%s%s: Decide = %v, %v; want %v, %v", name, c.what, d, why, wantD, c.want)
					}
				}
			}
		}
	}
}

func TestDecide(t *testing.T) {
	read := retryable.Info{Kind: retryable.Read}
	unsafe := retryable.Info{Kind: retryable.Unsafe}
	blocking := retryable.Info{Kind: retryable.Unsafe, Blocking: true}
	fail := func(cl retryable.Class, ex retryable.Execution, info retryable.Info) policy.Failure {
		return policy.Failure{Command: "xread", Attempt: 1, Err: io.EOF, Class: cl, Execution: ex, Info: info}
	}
	at := func(f policy.Failure, attempt int, elapsed time.Duration) policy.Failure {
		f.Attempt, f.Elapsed = attempt, elapsed
		return f
	}
	withErr := func(f policy.Failure, err error) policy.Failure {
		f.Err = err
		return f
	}
	isBusy := func(f policy.Failure) bool { return f.Class == retryable.Busy }
	conn := fail(retryable.Connection, retryable.NotExecuted, read)

	tests := []struct {
		name  string
		opts  []policy.Option
		f     policy.Failure
		prev  time.Duration
		wantD time.Duration
		want  policy.Reason
	}{
		// The class hierarchy.
		{"Connection covers Timeout", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(2)},
			fail(retryable.Timeout, retryable.Ambiguous, read), 0, 0, policy.Retry},
		{"Connection covers BusyLoading", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(2)},
			fail(retryable.BusyLoading, retryable.NotExecuted, unsafe), 0, 0, policy.Retry},
		{"Connection does not cover ReadOnly", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(2)},
			fail(retryable.ReadOnly, retryable.NotExecuted, read), 0, 0, policy.NotRetryable},
		{"Timeout does not cover Connection", []policy.Option{policy.RetryOn(retryable.Timeout), policy.MaxAttempts(2)},
			conn, 0, 0, policy.NotRetryable},
		{"Timeout alone", []policy.Option{policy.RetryOn(retryable.Timeout), policy.MaxAttempts(2)},
			fail(retryable.Timeout, retryable.Ambiguous, read), 0, 0, policy.Retry},
		{"AbortOn carves out Timeout", []policy.Option{policy.RetryOn(retryable.Connection), policy.AbortOn(retryable.Timeout), policy.MaxAttempts(2)},
			fail(retryable.Timeout, retryable.Ambiguous, read), 0, 0, policy.NotRetryable},
		{"AbortOn Timeout keeps Connection", []policy.Option{policy.RetryOn(retryable.Connection), policy.AbortOn(retryable.Timeout), policy.MaxAttempts(2)},
			conn, 0, 0, policy.Retry},
		{"AbortOn Timeout keeps BusyLoading", []policy.Option{policy.RetryOn(retryable.Connection), policy.AbortOn(retryable.Timeout), policy.MaxAttempts(2)},
			fail(retryable.BusyLoading, retryable.NotExecuted, read), 0, 0, policy.Retry},
		{"AbortOn before RetryOn", []policy.Option{policy.AbortOn(retryable.Timeout), policy.RetryOn(retryable.Connection), policy.MaxAttempts(2)},
			fail(retryable.Timeout, retryable.Ambiguous, read), 0, 0, policy.NotRetryable},
		{"AbortOn the parent aborts its kinds", []policy.Option{policy.RetryOn(retryable.Timeout), policy.AbortOn(retryable.Connection), policy.MaxAttempts(2)},
			fail(retryable.Timeout, retryable.Ambiguous, read), 0, 0, policy.NotRetryable},
		{"AbortOn beats RetryIf", []policy.Option{policy.RetryIf(func(policy.Failure) bool { return true }), policy.AbortOn(retryable.Busy), policy.MaxAttempts(2)},
			fail(retryable.Busy, retryable.NotExecuted, read), 0, 0, policy.NotRetryable},
		{"RetryOn replaces", []policy.Option{policy.RetryOn(retryable.Busy), policy.RetryOn(retryable.Capacity), policy.MaxAttempts(2)},
			fail(retryable.Busy, retryable.NotExecuted, read), 0, 0, policy.NotRetryable},
		{"RetryOn() retries nothing", []policy.Option{policy.RetryOn(retryable.Connection), policy.RetryOn(), policy.RetryIf(isBusy), policy.MaxAttempts(2)},
			conn, 0, 0, policy.NotRetryable},

		// RetryIf.
		{"RetryIf adds a class", []policy.Option{policy.RetryOn(retryable.Connection), policy.RetryIf(isBusy), policy.MaxAttempts(2)},
			fail(retryable.Busy, retryable.NotExecuted, read), 0, 0, policy.Retry},
		{"RetryIf false", []policy.Option{policy.RetryOn(retryable.Connection), policy.RetryIf(isBusy), policy.MaxAttempts(2)},
			fail(retryable.Capacity, retryable.NotExecuted, read), 0, 0, policy.NotRetryable},
		{"RetryIf respects the safety rule", []policy.Option{policy.RetryIf(isBusy), policy.MaxAttempts(2)},
			fail(retryable.Busy, retryable.Ambiguous, unsafe), 0, 0, policy.Unsafe},
		{"RetryIf respects MaxAttempts", []policy.Option{policy.RetryIf(isBusy), policy.MaxAttempts(2)},
			at(fail(retryable.Busy, retryable.NotExecuted, read), 2, 0), 0, 0, policy.Exhausted},
		{"RetryIf(nil) removes it", []policy.Option{policy.RetryOn(retryable.Capacity), policy.RetryIf(isBusy), policy.RetryIf(nil), policy.MaxAttempts(2)},
			fail(retryable.Busy, retryable.NotExecuted, read), 0, 0, policy.NotRetryable},

		// Safety.
		{"unsafe ambiguous", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(2)},
			fail(retryable.Connection, retryable.Ambiguous, unsafe), 0, 0, policy.Unsafe},
		{"unsafe ambiguous, RetryAmbiguous", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(2), policy.RetryAmbiguous(true)},
			fail(retryable.Connection, retryable.Ambiguous, unsafe), 0, 0, policy.Retry},
		{"RetryAmbiguous(false) turns it off", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(2), policy.RetryAmbiguous(true), policy.RetryAmbiguous(false)},
			fail(retryable.Connection, retryable.Ambiguous, unsafe), 0, 0, policy.Unsafe},
		{"unsafe not executed", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(2)},
			fail(retryable.Connection, retryable.NotExecuted, unsafe), 0, 0, policy.Retry},
		{"unsafe completed, RetryAmbiguous", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(2), policy.RetryAmbiguous(true)},
			fail(retryable.Connection, retryable.Completed, unsafe), 0, 0, policy.Unsafe},
		{"idempotent ambiguous", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(2)},
			fail(retryable.Connection, retryable.Ambiguous, retryable.Info{Kind: retryable.Idempotent}), 0, 0, policy.Retry},

		// Blocking commands.
		{"blocking timeout", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(2), policy.RetryAmbiguous(true)},
			fail(retryable.Timeout, retryable.Ambiguous, blocking), 0, 0, policy.BlockingTimeout},
		{"blocking read-only timeout", []policy.Option{policy.RetryOn(retryable.Timeout), policy.MaxAttempts(2)},
			fail(retryable.Timeout, retryable.NotExecuted, retryable.Info{Kind: retryable.Read, Blocking: true}), 0, 0, policy.BlockingTimeout},
		{"blocking timeout not retried anyway", []policy.Option{policy.RetryOn(retryable.ReadOnly), policy.MaxAttempts(2)},
			fail(retryable.Timeout, retryable.Ambiguous, blocking), 0, 0, policy.NotRetryable},
		{"blocking refused connection", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(2)},
			fail(retryable.Connection, retryable.NotExecuted, blocking), 0, 0, policy.Retry},
		{"blocking loading", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(2)},
			fail(retryable.BusyLoading, retryable.NotExecuted, blocking), 0, 0, policy.Retry},

		// MaxAttempts.
		{"attempt 1 of 3", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(3)}, at(conn, 1, 0), 0, 0, policy.Retry},
		{"attempt 2 of 3", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(3)}, at(conn, 2, 0), 0, 0, policy.Retry},
		{"attempt 3 of 3", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(3)}, at(conn, 3, 0), 0, 0, policy.Exhausted},
		{"attempt 4 of 3", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(3)}, at(conn, 4, 0), 0, 0, policy.Exhausted},
		{"MaxAttempts 1", []policy.Option{policy.RetryOn(retryable.Connection)}, conn, 0, 0, policy.Exhausted},
		{"class checked before attempts", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(1)},
			fail(retryable.Connection, retryable.Ambiguous, unsafe), 0, 0, policy.Unsafe},

		// Delays.
		{"exponential 1", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(10), policy.Backoff(backoff.NewExponential(step, time.Second, 2))},
			at(conn, 1, 0), 0, step, policy.Retry},
		{"exponential 3", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(10), policy.Backoff(backoff.NewExponential(step, time.Second, 2))},
			at(conn, 3, 0), 2 * step, 4 * step, policy.Retry},
		{"exponential capped", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(100), policy.Backoff(backoff.NewExponential(step, time.Second, 2))},
			at(conn, 60, 0), time.Second, time.Second, policy.Retry},
		{"prev reaches the strategy", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(10),
			policy.Backoff(backoff.Func(func(_ int, prev time.Duration) time.Duration { return prev + step }))},
			at(conn, 2, 0), 3 * step, 4 * step, policy.Retry},
		{"negative delay counts as zero", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(10), policy.Backoff(negative{})},
			at(conn, 2, 0), 0, 0, policy.Retry},
		{"Backoff(nil) retries at once", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(10), policy.Backoff(backoff.Constant(step)), policy.Backoff(nil)},
			at(conn, 2, 0), 0, 0, policy.Retry},

		// MaxElapsed.
		{"within MaxElapsed", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(10), policy.Backoff(backoff.Constant(30 * time.Millisecond)), policy.MaxElapsed(100 * time.Millisecond)},
			at(conn, 2, 60*time.Millisecond), 0, 30 * time.Millisecond, policy.Retry},
		{"ends at MaxElapsed", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(10), policy.Backoff(backoff.Constant(30 * time.Millisecond)), policy.MaxElapsed(100 * time.Millisecond)},
			at(conn, 2, 70*time.Millisecond), 0, 30 * time.Millisecond, policy.Retry},
		{"ends past MaxElapsed", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(10), policy.Backoff(backoff.Constant(30 * time.Millisecond)), policy.MaxElapsed(100 * time.Millisecond)},
			at(conn, 2, 71*time.Millisecond), 0, 0, policy.ElapsedLimit},
		{"MaxElapsed 0 is no cap", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(10), policy.Backoff(backoff.Constant(30 * time.Millisecond)), policy.MaxElapsed(0)},
			at(conn, 2, time.Hour), 0, 30 * time.Millisecond, policy.Retry},
		{"attempts checked before elapsed", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(2), policy.MaxElapsed(time.Millisecond)},
			at(conn, 2, time.Hour), 0, 0, policy.Exhausted},

		// CircuitOpen.
		{"RetryIn beats a shorter backoff", []policy.Option{policy.RetryOn(retryable.CircuitOpen), policy.MaxAttempts(2), policy.Backoff(backoff.Constant(step))},
			withErr(fail(retryable.CircuitOpen, retryable.NotExecuted, unsafe), &breaker.OpenError{Node: "n", RetryIn: 2 * time.Second}), 0, 2 * time.Second, policy.Retry},
		{"RetryIn through wrapping", []policy.Option{policy.RetryOn(retryable.CircuitOpen), policy.MaxAttempts(2), policy.Backoff(backoff.Constant(step))},
			withErr(fail(retryable.CircuitOpen, retryable.NotExecuted, unsafe), fmt.Errorf("hook: %w", &breaker.OpenError{Node: "n", RetryIn: time.Second})), 0, time.Second, policy.Retry},
		{"a longer backoff beats RetryIn", []policy.Option{policy.RetryOn(retryable.CircuitOpen), policy.MaxAttempts(2), policy.Backoff(backoff.Constant(step))},
			withErr(fail(retryable.CircuitOpen, retryable.NotExecuted, unsafe), &breaker.OpenError{Node: "n", RetryIn: time.Millisecond}), 0, step, policy.Retry},
		{"no OpenError in the chain", []policy.Option{policy.RetryOn(retryable.CircuitOpen), policy.MaxAttempts(2), policy.Backoff(backoff.Constant(step))},
			withErr(fail(retryable.CircuitOpen, retryable.NotExecuted, unsafe), nil), 0, step, policy.Retry},
		{"RetryIn counts against MaxElapsed", []policy.Option{policy.RetryOn(retryable.CircuitOpen), policy.MaxAttempts(2), policy.MaxElapsed(time.Second)},
			withErr(fail(retryable.CircuitOpen, retryable.NotExecuted, unsafe), &breaker.OpenError{Node: "n", RetryIn: 2 * time.Second}), 0, 0, policy.ElapsedLimit},
		{"RetryIn only for CircuitOpen", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(2), policy.Backoff(backoff.Constant(step))},
			withErr(conn, &breaker.OpenError{Node: "n", RetryIn: 2 * time.Second}), 0, step, policy.Retry},
		{"CircuitOpen not retried by default", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(2)},
			withErr(fail(retryable.CircuitOpen, retryable.NotExecuted, read), &breaker.OpenError{Node: "n", RetryIn: time.Second}), 0, 0, policy.CircuitOpen},
		{"Throttled", []policy.Option{policy.RetryOn(retryable.Throttled), policy.MaxAttempts(2), policy.Backoff(backoff.Constant(step))},
			withErr(fail(retryable.Throttled, retryable.NotExecuted, unsafe), &breaker.ThrottledError{Reason: breaker.ReasonRateLimit}), 0, step, policy.Retry},

		// Per-command overrides.
		{"override fails fast", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(3), policy.Command([]string{"xread"}, policy.MaxAttempts(1))},
			conn, 0, 0, policy.Exhausted},
		{"override elsewhere", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(3), policy.Command([]string{"xadd"}, policy.MaxAttempts(1))},
			conn, 0, 0, policy.Retry},
		{"override retries more classes", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(3), policy.Command([]string{"xread"}, policy.RetryOn(retryable.ReadOnly))},
			fail(retryable.ReadOnly, retryable.NotExecuted, read), 0, 0, policy.Retry},
		{"override allows ambiguous retries", []policy.Option{policy.RetryOn(retryable.Connection), policy.MaxAttempts(3), policy.Command([]string{"XREAD"}, policy.RetryAmbiguous(true))},
			fail(retryable.Connection, retryable.Ambiguous, unsafe), 0, 0, policy.Retry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustNew(t, tt.opts...)
			d, why := p.Decide(tt.f, tt.prev)
			if d != tt.wantD || why != tt.want {
				t.Errorf("Decide = %v, %v; want %v, %v", d, why, tt.wantD, tt.want)
			}
		})
	}
}

// negative is a strategy that breaks the contract.
type negative struct{}

func (negative) Delay(int, time.Duration) time.Duration { return -time.Second }

func TestRetryIfSeesTheFailure(t *testing.T) {
	var got []policy.Failure
	p := mustNew(t, policy.RetryOn(retryable.Connection), policy.MaxAttempts(5),
		policy.RetryIf(func(f policy.Failure) bool {
			got = append(got, f)
			return f.Attempt < 2
		}))
	f := policy.Failure{Command: "evalsha", Attempt: 1, Err: io.ErrUnexpectedEOF, Class: retryable.Busy,
		Execution: retryable.NotExecuted, Info: retryable.Info{Kind: retryable.Idempotent, Script: true}, Elapsed: time.Millisecond}
	if _, why := p.Decide(f, 0); why != policy.Retry {
		t.Errorf("attempt 1: %v, want retry", why)
	}
	if len(got) != 1 || got[0] != f {
		t.Fatalf("RetryIf got %+v, want [%+v]", got, f)
	}
	f.Attempt = 2
	if _, why := p.Decide(f, 0); why != policy.NotRetryable {
		t.Errorf("attempt 2: %v, want %v", why, policy.NotRetryable)
	}
	// Classes RetryOn retries, and classes never retried, do not reach it.
	for _, cl := range []retryable.Class{retryable.Connection, retryable.Timeout, retryable.Response, retryable.OK, retryable.Canceled} {
		got = nil
		p.Decide(policy.Failure{Command: "get", Attempt: 1, Class: cl, Info: retryable.Info{Kind: retryable.Read}}, 0)
		if len(got) != 0 {
			t.Errorf("%v: RetryIf called", cl)
		}
	}
}

func TestZeroPolicy(t *testing.T) {
	var p policy.Policy
	for _, cl := range retryable.Classes() {
		for _, ex := range executions {
			for _, k := range kinds {
				f := policy.Failure{Command: "get", Attempt: 1, Err: io.EOF, Class: cl, Execution: ex, Info: retryable.Info{Kind: k}}
				want := policy.NotRetryable
				switch cl {
				case retryable.CircuitOpen:
					want = policy.CircuitOpen
				case retryable.Throttled:
					want = policy.RateLimited
				}
				if d, why := p.Decide(f, 0); d != 0 || why != want {
					t.Errorf("%v/%v/%v: Decide = %v, %v; want 0, %v", cl, ex, k, d, why, want)
				}
			}
		}
	}
	if policy.MaxAttemptsOf(p, "get") != 1 || policy.AttemptTimeoutOf(p, "get") != 0 || policy.HasAttemptTimeout(p) ||
		policy.FallbackOf(p, "get") != nil || policy.SwallowsOf(p, "set") || p.Breakers() != nil || policy.BudgetOf(p) != nil ||
		policy.LimiterOf(p) != nil || policy.ObservedOf(p) {
		t.Errorf("the zero Policy is not a single attempt with nothing else")
	}
	// New() is the same.
	q := mustNew(t)
	f := policy.Failure{Command: "get", Attempt: 1, Class: retryable.Connection, Info: retryable.Info{Kind: retryable.Read}}
	if _, why := q.Decide(f, 0); why != policy.NotRetryable || policy.MaxAttemptsOf(q, "get") != 1 || q.Breakers() != nil {
		t.Errorf("New(): Decide %v, MaxAttempts %d, Breakers %v", why, policy.MaxAttemptsOf(q, "get"), q.Breakers())
	}
}

func TestDecideAllocs(t *testing.T) {
	p := mustNew(t, policy.RetryOn(retryable.Connection, retryable.CircuitOpen), policy.MaxAttempts(3),
		policy.MaxElapsed(time.Second),
		policy.Backoff(backoff.FullJitter(backoff.NewExponential(time.Millisecond, time.Second, 2))),
		policy.RetryIf(func(f policy.Failure) bool { return f.Class == retryable.Busy }),
		policy.Command([]string{"xadd"}, policy.MaxAttempts(1)))
	open := fmt.Errorf("wrapped: %w", &breaker.OpenError{Node: "n", RetryIn: 100 * time.Millisecond})
	read := retryable.Info{Kind: retryable.Read}
	for _, f := range []policy.Failure{
		{Command: "get", Attempt: 1, Err: io.EOF, Class: retryable.Connection, Execution: retryable.Ambiguous, Info: read},
		{Command: "incr", Attempt: 1, Err: io.EOF, Class: retryable.Connection, Execution: retryable.Ambiguous},
		{Command: "get", Attempt: 1, Err: open, Class: retryable.CircuitOpen, Execution: retryable.NotExecuted, Info: read},
		{Command: "get", Attempt: 1, Err: io.EOF, Class: retryable.Busy, Execution: retryable.NotExecuted, Info: read},
		{Command: "xadd", Attempt: 1, Err: io.EOF, Class: retryable.Connection, Execution: retryable.NotExecuted},
		{Command: "get", Attempt: 1, Err: io.EOF, Class: retryable.Response, Info: read},
	} {
		if n := testing.AllocsPerRun(100, func() { p.Decide(f, time.Millisecond) }); n != 0 {
			t.Errorf("%s %v: Decide allocates %v times", f.Command, f.Class, n)
		}
	}
}

func BenchmarkDecide(b *testing.B) {
	p := policy.Default()
	f := policy.Failure{Command: "get", Attempt: 1, Err: io.EOF, Class: retryable.Connection,
		Execution: retryable.Ambiguous, Info: retryable.Info{Kind: retryable.Read}}
	b.ReportAllocs()
	for b.Loop() {
		p.Decide(f, 0)
	}
}
