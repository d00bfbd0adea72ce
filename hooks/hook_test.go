package hooks

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/policy"
)

var (
	errDial = &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	errEOF  = io.EOF
	errResp = redis.ErrCrossSlot // a real go-redis error reply value
)

// fakeClock drives now and sleep so tests never sleep for real.
type fakeClock struct {
	t      time.Time
	slept  []time.Duration
	onWait func()
}

func (c *fakeClock) now() time.Time { return c.t }
func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.slept = append(c.slept, d)
	c.t = c.t.Add(d)
	if c.onWait != nil {
		c.onWait()
	}
	return ctx.Err()
}

func testHook(t *testing.T, p policy.Policy) (*retryHook, *fakeClock) {
	t.Helper()
	h := newClientHook(p, nil, "n", false)
	clk := &fakeClock{t: time.Unix(1000, 0)}
	h.now, h.sleep = clk.now, clk.sleep
	return h, clk
}

func mustPolicy(t *testing.T, opts ...policy.Option) policy.Policy {
	t.Helper()
	p, err := policy.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// script returns a next that answers with errs in turn, then nil.
func script(calls *int, errs ...error) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		i := *calls
		*calls++
		if i < len(errs) {
			return errs[i]
		}
		return nil
	}
}

func retrying(t *testing.T, extra ...policy.Option) policy.Policy {
	opts := append([]policy.Option{
		policy.RetryOn(retryable.Connection, retryable.ClusterDown, retryable.CircuitOpen),
		policy.MaxAttempts(4),
		policy.Backoff(backoff.NewExponential(10*time.Millisecond, time.Second, 2)),
	}, extra...)
	return mustPolicy(t, opts...)
}

func TestProcessHookDecisions(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		args      []any
		errs      []error
		wantCalls int
		wantErr   error
	}{
		{"success", []any{"get", "k"}, nil, 1, nil},
		{"nil reply is no failure", []any{"get", "k"}, []error{redis.Nil}, 1, redis.Nil},
		{"read retried after EOF", []any{"get", "k"}, []error{errEOF, errEOF}, 3, nil},
		{"idempotent SET retried after EOF", []any{"set", "k", "v"}, []error{errEOF}, 2, nil},
		{"INCR not retried after EOF", []any{"incr", "k"}, []error{errEOF}, 1, errEOF},
		{"INCR retried after a dial error", []any{"incr", "k"}, []error{errDial}, 2, nil},
		{"SET NX not retried after EOF", []any{"set", "k", "v", "nx"}, []error{errEOF}, 1, errEOF},
		{"error reply not retried", []any{"get", "k"}, []error{errResp}, 1, errResp},
		{"attempts exhausted", []any{"get", "k"}, []error{errEOF, errEOF, errEOF, errEOF, errEOF}, 4, errEOF},
		{"caller cancel not retried", []any{"get", "k"}, []error{context.Canceled}, 1, context.Canceled},
		{"closed client not retried", []any{"get", "k"}, []error{redis.ErrClosed}, 1, redis.ErrClosed},
		{"handshake not retried", []any{"hello", "3"}, []error{errEOF}, 1, errEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := testHook(t, retrying(t))
			calls := 0
			cmd := redis.NewCmd(ctx, tt.args...)
			err := h.ProcessHook(script(&calls, tt.errs...))(ctx, cmd)
			if err != tt.wantErr {
				t.Fatalf("err = %v, want %v (identity)", err, tt.wantErr)
			}
			if calls != tt.wantCalls {
				t.Fatalf("calls = %d, want %d", calls, tt.wantCalls)
			}
		})
	}
}

func TestBackoffDelaysAndMaxElapsed(t *testing.T) {
	ctx := context.Background()
	h, clk := testHook(t, retrying(t, policy.MaxAttempts(10), policy.MaxElapsed(100*time.Millisecond)))
	calls := 0
	err := h.ProcessHook(script(&calls, errEOF, errEOF, errEOF, errEOF, errEOF, errEOF, errEOF))(ctx, redis.NewStringCmd(ctx, "get", "k"))
	if err != errEOF {
		t.Fatalf("err = %v", err)
	}
	// 10+20+40 = 70ms; the next 80ms would end at 150ms > 100ms.
	want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}
	if len(clk.slept) != len(want) {
		t.Fatalf("slept %v, want %v", clk.slept, want)
	}
	for i := range want {
		if clk.slept[i] != want[i] {
			t.Fatalf("slept %v, want %v", clk.slept, want)
		}
	}
	if calls != 4 {
		t.Fatalf("calls = %d, want 4", calls)
	}
}

func TestDeadlineStopsBeforeSleepingPastIt(t *testing.T) {
	// A one-minute delay against a deadline 30 s away. The context stays
	// live for the whole test, so only comparing the next delay with the
	// deadline can stop the retry.
	h, clk := testHook(t, retrying(t, policy.Backoff(backoff.Constant(time.Minute))))
	clk.t = time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), clk.t.Add(30*time.Second))
	defer cancel()
	calls := 0
	err := h.ProcessHook(script(&calls, errEOF, errEOF))(ctx, redis.NewStringCmd(ctx, "get", "k"))
	if err != errEOF {
		t.Fatalf("err = %v, want the last real error, not %v", err, context.DeadlineExceeded)
	}
	if calls != 1 || len(clk.slept) != 0 {
		t.Fatalf("calls = %d, slept %v: want one call and no sleep", calls, clk.slept)
	}
	// A delay that ends before the deadline is slept.
	h, clk = testHook(t, retrying(t, policy.Backoff(backoff.Constant(10*time.Second))))
	clk.t = time.Now()
	calls = 0
	if err := h.ProcessHook(script(&calls, errEOF))(ctx, redis.NewStringCmd(ctx, "get", "k")); err != nil || calls != 2 {
		t.Fatalf("err = %v, calls = %d: want a retry inside the deadline", err, calls)
	}
}

func TestRealSleepEndsWithContext(t *testing.T) {
	p := retrying(t, policy.Backoff(backoff.Constant(time.Hour)))
	h := newClientHook(p, nil, "n", false)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	next := func(ctx context.Context, cmd redis.Cmder) error {
		calls++
		time.AfterFunc(20*time.Millisecond, cancel)
		return errEOF
	}
	start := time.Now()
	err := h.ProcessHook(next)(ctx, redis.NewStringCmd(ctx, "get", "k"))
	if err != errEOF {
		t.Fatalf("err = %v, want the last real error", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Fatalf("returned after %v: the sleep ignored the context", el)
	}
	if calls != 1 {
		t.Fatalf("calls = %d", calls)
	}
}

func TestNoRetryContext(t *testing.T) {
	h, _ := testHook(t, retrying(t))
	ctx := policy.NoRetry(context.Background())
	calls := 0
	if err := h.ProcessHook(script(&calls, errEOF))(ctx, redis.NewStringCmd(ctx, "get", "k")); err != errEOF || calls != 1 {
		t.Fatalf("err = %v, calls = %d", err, calls)
	}
}

func TestBlockingTimeoutNotRetried(t *testing.T) {
	h, _ := testHook(t, retrying(t))
	ctx := context.Background()
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: &timeoutErr{}}
	calls := 0
	cmd := redis.NewStringSliceCmd(ctx, "blpop", "q", "1")
	if err := h.ProcessHook(script(&calls, timeout))(ctx, cmd); err != timeout || calls != 1 {
		t.Fatalf("err = %v, calls = %d", err, calls)
	}
	// A plain read is retried after the same timeout.
	calls = 0
	if err := h.ProcessHook(script(&calls, timeout))(ctx, redis.NewStringCmd(ctx, "get", "k")); err != nil || calls != 2 {
		t.Fatalf("GET: err = %v, calls = %d", err, calls)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestFallbackAndLogAndContinue(t *testing.T) {
	ctx := context.Background()
	var fellBack []error
	p := retrying(t,
		policy.MaxAttempts(2),
		policy.Fallback(func(ctx context.Context, cmd policy.Cmd, err error) error {
			fellBack = append(fellBack, err)
			if c, ok := cmd.(*redis.StringCmd); ok {
				c.SetVal("from-db")
			}
			return nil
		}),
		policy.LogAndContinue("setex"),
	)
	h, _ := testHook(t, p)
	calls := 0
	cmd := redis.NewStringCmd(ctx, "get", "k")
	if err := h.ProcessHook(script(&calls, errEOF, errEOF))(ctx, cmd); err != nil || cmd.Val() != "from-db" {
		t.Fatalf("err = %v, val = %q", err, cmd.Val())
	}
	if len(fellBack) != 1 || fellBack[0] != errEOF {
		t.Fatalf("fallback got %v", fellBack)
	}
	// Not for an error reply: that one is the caller's.
	calls = 0
	if err := h.ProcessHook(script(&calls, errResp))(ctx, redis.NewStringCmd(ctx, "get", "k")); err != errResp {
		t.Fatalf("err = %v", err)
	}
	if len(fellBack) != 1 {
		t.Fatalf("fallback ran for an error reply")
	}
	// SETEX is swallowed: success, no fallback.
	calls = 0
	if err := h.ProcessHook(script(&calls, errDial, errDial))(ctx, redis.NewStatusCmd(ctx, "setex", "k", 10, "v")); err != nil {
		t.Fatalf("setex err = %v", err)
	}
	if len(fellBack) != 1 {
		t.Fatalf("fallback ran for a log-and-continue command")
	}
}

func TestPerCommandOverride(t *testing.T) {
	ctx := context.Background()
	p := retrying(t, policy.Command([]string{"XADD"}, policy.MaxAttempts(1)))
	h, _ := testHook(t, p)
	calls := 0
	if err := h.ProcessHook(script(&calls, errDial))(ctx, redis.NewStringCmd(ctx, "xadd", "s", "*", "f", "v")); err != errDial || calls != 1 {
		t.Fatalf("xadd: err = %v, calls = %d", err, calls)
	}
	calls = 0
	if err := h.ProcessHook(script(&calls, errDial))(ctx, redis.NewStringCmd(ctx, "incr", "k")); err != nil || calls != 2 {
		t.Fatalf("incr: err = %v, calls = %d", err, calls)
	}
}

func TestMarksAndRetryAmbiguous(t *testing.T) {
	ctx := context.Background()
	h, _ := testHook(t, retrying(t, policy.MarkIdempotent("evalsha"), policy.MarkUnsafe("get")))
	calls := 0
	if err := h.ProcessHook(script(&calls, errEOF))(ctx, redis.NewCmd(ctx, "evalsha", "abc", 0)); err != nil || calls != 2 {
		t.Fatalf("evalsha marked idempotent: err = %v, calls = %d", err, calls)
	}
	calls = 0
	if err := h.ProcessHook(script(&calls, errEOF))(ctx, redis.NewStringCmd(ctx, "get", "k")); err != errEOF || calls != 1 {
		t.Fatalf("get marked unsafe: err = %v, calls = %d", err, calls)
	}
	h, _ = testHook(t, retrying(t, policy.Command([]string{"incr"}, policy.RetryAmbiguous(true))))
	calls = 0
	if err := h.ProcessHook(script(&calls, errEOF))(ctx, redis.NewIntCmd(ctx, "incr", "k")); err != nil || calls != 2 {
		t.Fatalf("incr with RetryAmbiguous: err = %v, calls = %d", err, calls)
	}
}

// TestBudgetRefusalReturnsLastError has the budget refuse a retry: the
// call reached the node, so the caller gets the node's error, and the
// refusal is an event.
func TestBudgetRefusalReturnsLastError(t *testing.T) {
	ctx := context.Background()
	b, err := breaker.NewBudget(breaker.BudgetSettings{MaxPerSecond: 1, Burst: 1})
	if err != nil {
		t.Fatal(err)
	}
	var events []policy.Event
	h, _ := testHook(t, retrying(t, policy.Budget(b), policy.MaxAttempts(10), policy.Observe(func(e policy.Event) { events = append(events, e) })))
	calls := 0
	err = h.ProcessHook(script(&calls, errEOF, errEOF, errEOF))(ctx, redis.NewStringCmd(ctx, "get", "k"))
	if err != errEOF {
		t.Fatalf("err = %v, want the node's last error, unchanged", err)
	}
	if calls != 2 {
		t.Fatalf("calls = %d, want 2 (one retry from the burst)", calls)
	}
	last := events[len(events)-1]
	if last.Kind != policy.GaveUp || last.Reason != policy.BudgetExhausted || last.Err != errEOF {
		t.Fatalf("last event %+v, want gave up (retry budget exhausted) with EOF", last)
	}
}

func TestEventsReported(t *testing.T) {
	ctx := context.Background()
	var events []policy.Event
	h, _ := testHook(t, retrying(t, policy.MaxAttempts(2), policy.Observe(func(e policy.Event) { events = append(events, e) })))
	calls := 0
	_ = h.ProcessHook(script(&calls, errEOF, errEOF))(ctx, redis.NewStringCmd(ctx, "get", "k"))
	if len(events) != 2 || events[0].Kind != policy.RetryScheduled || events[1].Kind != policy.GaveUp ||
		events[1].Reason != policy.Exhausted || events[0].Command != "get" {
		t.Fatalf("events = %+v", events)
	}
}

func TestBreakerOpensAndRefuses(t *testing.T) {
	ctx := context.Background()
	p := retrying(t, policy.MaxAttempts(1), policy.Breaker(breaker.Settings{ConsecutiveFailures: 3, OpenTimeout: time.Hour}))
	h, _ := testHook(t, p)
	h.node = h.guardFor("n1")
	h.brk = h.node.brk
	calls := 0
	next := func(ctx context.Context, cmd redis.Cmder) error { calls++; return errDial }
	fn := h.ProcessHook(next)
	for i := 0; i < 3; i++ {
		_ = fn(ctx, redis.NewStringCmd(ctx, "get", "k"))
	}
	err := fn(ctx, redis.NewStringCmd(ctx, "get", "k"))
	var oe *breaker.OpenError
	if !errors.As(err, &oe) || oe.Node != "n1" || retryable.Classify(err) != retryable.CircuitOpen {
		t.Fatalf("err = %v, want an OpenError for n1", err)
	}
	if calls != 3 {
		t.Fatalf("calls = %d: the open breaker let a call through", calls)
	}
	// Nil and error replies never count.
	p2 := retrying(t, policy.MaxAttempts(1), policy.Breaker(breaker.Settings{ConsecutiveFailures: 2, OpenTimeout: time.Hour}))
	h2, _ := testHook(t, p2)
	for i := 0; i < 10; i++ {
		c := 0
		_ = h2.ProcessHook(script(&c, redis.Nil))(ctx, redis.NewStringCmd(ctx, "get", "k"))
		c = 0
		_ = h2.ProcessHook(script(&c, errResp))(ctx, redis.NewStringCmd(ctx, "get", "k"))
	}
	if st := p2.Breakers().Get("n").State(); st != breaker.Closed {
		t.Fatalf("state = %v after Nil and error replies", st)
	}
}

func TestHandshakePassesOpenBreaker(t *testing.T) {
	ctx := context.Background()
	p := retrying(t, policy.Breaker(breaker.Settings{}))
	h, _ := testHook(t, p)
	p.Breakers().Get("n").ForceOpen()
	calls := 0
	if err := h.ProcessHook(script(&calls))(ctx, redis.NewCmd(ctx, "hello", "3")); err != nil || calls != 1 {
		t.Fatalf("hello: err = %v, calls = %d", err, calls)
	}
}

func TestPipelineDecisions(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		cmds      func() []redis.Cmder
		err       error
		wantCalls int
	}{
		{"reads retried after EOF", func() []redis.Cmder {
			return []redis.Cmder{redis.NewStringCmd(ctx, "get", "a"), redis.NewStringCmd(ctx, "set", "b", "1")}
		}, errEOF, 2},
		{"INCR in pipeline not retried after EOF", func() []redis.Cmder {
			return []redis.Cmder{redis.NewStringCmd(ctx, "get", "a"), redis.NewIntCmd(ctx, "incr", "b")}
		}, errEOF, 1},
		{"INCR in pipeline retried after dial error", func() []redis.Cmder {
			return []redis.Cmder{redis.NewIntCmd(ctx, "incr", "b")}
		}, errDial, 2},
		{"transaction not retried after EOF", func() []redis.Cmder {
			return []redis.Cmder{redis.NewStatusCmd(ctx, "multi"), redis.NewStringCmd(ctx, "get", "a"), redis.NewSliceCmd(ctx, "exec")}
		}, errEOF, 1},
		{"transaction retried when nothing ran", func() []redis.Cmder {
			return []redis.Cmder{redis.NewStatusCmd(ctx, "multi"), redis.NewIntCmd(ctx, "incr", "a"), redis.NewSliceCmd(ctx, "exec")}
		}, errDial, 2},
		{"TxFailedErr not retried", func() []redis.Cmder {
			return []redis.Cmder{redis.NewStatusCmd(ctx, "multi"), redis.NewStringCmd(ctx, "get", "a"), redis.NewSliceCmd(ctx, "exec")}
		}, redis.TxFailedErr, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := testHook(t, retrying(t))
			calls := 0
			next := func(ctx context.Context, cmds []redis.Cmder) error {
				calls++
				if calls == 1 {
					for _, c := range cmds {
						c.SetErr(tt.err)
					}
					return tt.err
				}
				for _, c := range cmds {
					c.SetErr(nil)
				}
				return nil
			}
			err := h.ProcessPipelineHook(next)(ctx, tt.cmds())
			if calls != tt.wantCalls {
				t.Fatalf("calls = %d, want %d", calls, tt.wantCalls)
			}
			if tt.wantCalls == 1 && err != tt.err {
				t.Fatalf("err = %v, want %v unchanged", err, tt.err)
			}
		})
	}
}

func TestInstallRefusesBuiltinRetries(t *testing.T) {
	p := retrying(t)
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	err := Install(c, p)
	if err == nil || !strings.Contains(err.Error(), "MaxRetries") {
		t.Fatalf("err = %v, want a MaxRetries refusal", err)
	}
	c2 := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1})
	defer c2.Close()
	if err := Install(c2, p); err == nil || !strings.Contains(err.Error(), "ContextTimeoutEnabled") {
		t.Fatalf("err = %v, want a ContextTimeoutEnabled refusal", err)
	}
	if err := Install(c2, p, AllowNoContextTimeout()); err != nil {
		t.Fatal(err)
	}
	if err := Install(c, p, AllowBuiltinRetries(), AllowNoContextTimeout()); err != nil {
		t.Fatal(err)
	}
	if err := Install(nil, p); err == nil {
		t.Fatal("nil client accepted")
	}
	if _, err := NewClient(nil, p); err == nil {
		t.Fatal("nil options accepted")
	}
}

// TestNoDoomedRetry has the first attempt's failure open the breaker for
// longer than the backoff: the retry would be refused, so the call ends at
// once, without sleeping or spending the budget, with the node's error.
func TestNoDoomedRetry(t *testing.T) {
	ctx := context.Background()
	b, err := breaker.NewBudget(breaker.BudgetSettings{MaxPerSecond: 10, Burst: 10})
	if err != nil {
		t.Fatal(err)
	}
	var events []policy.Event
	p := retrying(t, policy.Backoff(backoff.Constant(200*time.Millisecond)), policy.MaxAttempts(3), policy.Budget(b),
		policy.Breaker(breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Minute}),
		policy.Observe(func(e policy.Event) { events = append(events, e) }))
	h, clk := testHook(t, p)
	calls := 0
	err = h.ProcessHook(script(&calls, errDial, errDial, errDial))(ctx, redis.NewStringCmd(ctx, "get", "k"))
	if err != errDial || calls != 1 || len(clk.slept) != 0 {
		t.Fatalf("err %v, %d calls, slept %v; want the dial error after one call and no sleep", err, calls, clk.slept)
	}
	if _, retries, _ := b.Stats(); retries != 0 {
		t.Errorf("the budget paid for %d retries that could not run", retries)
	}
	last := events[len(events)-1]
	if last.Kind != policy.GaveUp || last.Reason != policy.CircuitOpen || last.Err != errDial {
		t.Errorf("last event %+v; want gave up (circuit open) with the dial error", last)
	}
}

// TestBreakerCountsCalls fails every attempt of two calls of three
// attempts each: a breaker that opens after three failures in a row stays
// closed, because it counts calls, not attempts.
func TestBreakerCountsCalls(t *testing.T) {
	ctx := context.Background()
	p := retrying(t, policy.MaxAttempts(3), policy.Breaker(breaker.Settings{ConsecutiveFailures: 3, OpenTimeout: time.Hour}))
	h, _ := testHook(t, p)
	for i := range 2 {
		calls := 0
		if err := h.ProcessHook(script(&calls, errDial, errDial, errDial))(ctx, redis.NewStringCmd(ctx, "get", "k")); err != errDial || calls != 3 {
			t.Fatalf("call %d: err %v after %d attempts; want the dial error after 3", i, err, calls)
		}
	}
	if cs := p.Breakers().Get("n").Counts(); cs.State != breaker.Closed || cs.ConsecutiveFailures != 2 {
		t.Fatalf("after two failed calls of three attempts: %+v; want closed with 2 failures", cs)
	}
	calls := 0
	_ = h.ProcessHook(script(&calls, errDial, errDial, errDial))(ctx, redis.NewStringCmd(ctx, "get", "k"))
	if st := p.Breakers().Get("n").State(); st != breaker.Open {
		t.Fatalf("after the third failed call: %v; want open", st)
	}
}

// TestRecoveredEvent reports a call that succeeded on a retry.
func TestRecoveredEvent(t *testing.T) {
	ctx := context.Background()
	var events []policy.Event
	h, _ := testHook(t, retrying(t, policy.Observe(func(e policy.Event) { events = append(events, e) })))
	calls := 0
	if err := h.ProcessHook(script(&calls, errEOF, errEOF))(ctx, redis.NewStringCmd(ctx, "get", "k")); err != nil {
		t.Fatal(err)
	}
	last := events[len(events)-1]
	if len(events) != 3 || last.Kind != policy.Recovered || last.Attempt != 3 || last.Class != retryable.Connection || last.Err != errEOF {
		t.Fatalf("events %+v; want two retries, then recovered at attempt 3 after EOF", events)
	}
}
