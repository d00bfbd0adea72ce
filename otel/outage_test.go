package retryableotel

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/internal/redistest"
	"github.com/go-retryable/retryable/policy"
)

// TestOutage runs a real redis-server through an outage (killed, then
// restarted on its port) under three policies that share one Metrics, and
// reads every instrument afterwards: retries and their delays, a recovered
// call, failed attempts, give-ups, refusals by the breaker, the budget and
// the limiter, the breaker's state and transitions, a fallback and
// swallowed errors. The metric dump is in the test's -v output.
func TestOutage(t *testing.T) {
	srv := redistest.Start(t)
	m, reader := newMetrics(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts := &redis.Options{Addr: srv.Addr(), DialTimeout: 250 * time.Millisecond, ReadTimeout: time.Second}

	// main retries connection failures, opens its breaker after 3 failed
	// calls in a row, answers GET from a fallback and swallows SET
	// failures.
	main, err := policy.New(
		policy.RetryOn(retryable.Connection),
		policy.MaxAttempts(3),
		policy.Backoff(backoff.Constant(5*time.Millisecond)),
		policy.Breaker(breaker.Settings{ConsecutiveFailures: 3}),
		policy.Command([]string{"get"}, policy.Fallback(func(_ context.Context, cmd policy.Cmd, _ error) error {
			cmd.(*redis.StringCmd).SetVal("from the fallback")
			return nil
		})),
		policy.LogAndContinue("set"),
		policy.Observe(m.Observe),
	)
	if err != nil {
		t.Fatal(err)
	}
	rdb, err := hooks.NewClient(opts, main)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()

	// A client of main through a proxy that loses one reply, before the
	// outage: its GET recovers at its second attempt.
	proxy := redistest.NewProxy(t, srv.Addr())
	popts := *opts
	popts.Addr = proxy.Addr()
	prdb, err := hooks.NewClient(&popts, main)
	if err != nil {
		t.Fatal(err)
	}
	defer prdb.Close()

	// budgeted has no breaker and a budget that has earned no retry yet.
	budget, err := breaker.NewBudget(breaker.BudgetSettings{Ratio: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	budgeted, err := policy.New(policy.RetryOn(retryable.Connection), policy.MaxAttempts(3), policy.Budget(budget), policy.Observe(m.Observe))
	if err != nil {
		t.Fatal(err)
	}
	brdb, err := hooks.NewClient(opts, budgeted)
	if err != nil {
		t.Fatal(err)
	}
	defer brdb.Close()

	// limited admits one command per minute and refuses the rest.
	limiter, err := breaker.NewLimiter(1.0/60, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	limited, err := policy.New(policy.Limit(limiter), policy.Observe(m.Observe))
	if err != nil {
		t.Fatal(err)
	}
	lrdb, err := hooks.NewClient(opts, limited)
	if err != nil {
		t.Fatal(err)
	}
	defer lrdb.Close()

	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// The lost reply: EOF, then the retry's answer.
	proxy.DropNextReply()
	if v, err := prdb.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET through the proxy = %q, %v; want it recovered", v, err)
	}

	srv.Kill()
	brk := main.Breakers().Get(srv.Addr())
	// GET: three refused dials (two retries), a failed call; the fallback
	// answers.
	if v, err := rdb.Get(ctx, "k").Result(); err != nil || v != "from the fallback" {
		t.Fatalf("GET during the outage = %q, %v; want the fallback's value", v, err)
	}
	// SET: the same, swallowed.
	if err := rdb.Set(ctx, "k", "v2", 0).Err(); err != nil {
		t.Fatalf("SET during the outage: %v, want it swallowed", err)
	}
	// INCR: the third failed call opens the breaker, which refuses its
	// retry; the caller gets the node's error.
	if err := rdb.Incr(ctx, "n").Err(); retryable.Classify(err) != retryable.Connection {
		t.Fatalf("INCR that opens the breaker: %v, want the node's Connection error", err)
	}
	if st := brk.State(); st != breaker.Open {
		t.Fatalf("breaker %v after 3 failed calls, want open", st)
	}
	// Refused by the open breaker: an INCR the caller sees fail, a SET
	// swallowed.
	if err := rdb.Incr(ctx, "n").Err(); retryable.Classify(err) != retryable.CircuitOpen {
		t.Fatalf("INCR during the outage: %v, want CircuitOpen", err)
	}
	if err := rdb.Set(ctx, "k", "v3", 0).Err(); err != nil {
		t.Fatalf("refused SET during the outage: %v, want it swallowed", err)
	}
	// The budget refuses the retry of a failed GET, which returns the
	// node's error.
	if err := brdb.Get(ctx, "k").Err(); retryable.Classify(err) != retryable.Connection {
		t.Fatalf("budgeted GET during the outage: %v, want the node's Connection error", err)
	}

	srv.Restart(t)
	// The limiter admits the first PING and refuses the second.
	if err := lrdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("first limited PING: %v", err)
	}
	if err := lrdb.Ping(ctx).Err(); retryable.Classify(err) != retryable.Throttled {
		t.Fatalf("second limited PING: %v, want Throttled", err)
	}
	// The breaker PINGs the node itself and closes once it answers; no
	// call needs to be sent meanwhile.
	redistest.WaitFor(t, 15*time.Second, func() bool { return brk.State() == breaker.Closed })
	// The restarted server lost its data: a miss is Redis's own answer.
	if v, err := rdb.Get(ctx, "k").Result(); err != redis.Nil {
		t.Fatalf("GET after the recovery = %q, %v; want redis.Nil from the emptied server", v, err)
	}

	ps := collect(t, reader)
	t.Logf("metrics after the outage:\n%s", dump(ps))

	node := []attribute.KeyValue{str("server.address", "127.0.0.1"), attribute.Int("server.port", srv.Port())}
	get := str("db.operation.name", "GET")
	set := str("db.operation.name", "SET")
	incr := str("db.operation.name", "INCR")
	conn := str("error.type", "Connection")
	checks := []struct {
		what   string
		metric string
		attrs  []attribute.KeyValue
		min    float64
		max    float64 // 0: no maximum, unless min is 0 too: then exactly 0
	}{
		{"GET's retries: two of a refused dial, one of a lost reply", Retries, []attribute.KeyValue{get, conn}, 3, 3},
		{"SET's two retries", Retries, []attribute.KeyValue{set, conn}, 2, 2},
		{"the delays of GET's retries", RetryDelay, []attribute.KeyValue{get, conn}, 3, 3},
		{"the GET that lost a reply recovered", Recoveries, []attribute.KeyValue{get, conn}, 1, 1},
		{"at its second attempt", RecoveryAttempts, []attribute.KeyValue{get, conn}, 1, 1},
		{"GET's failed attempts: 3, the lost reply, the budgeted one", AttemptFailures, []attribute.KeyValue{get, conn}, 5, 5},
		{"SET's failed attempts", AttemptFailures, []attribute.KeyValue{set, conn}, 3, 3},
		{"the INCR that opened the breaker", AttemptFailures, []attribute.KeyValue{incr, conn}, 1, 1},
		{"no refusal is a failed attempt", AttemptFailures, []attribute.KeyValue{str("error.type", "CircuitOpen")}, 0, 0},
		{"GET gave up after 3 attempts", GiveUps, []attribute.KeyValue{get, conn, str("retryable.reason", "attempts_exhausted")}, 1, 1},
		{"SET gave up after 3 attempts", GiveUps, []attribute.KeyValue{set, conn, str("retryable.reason", "attempts_exhausted")}, 1, 1},
		{"INCR gave up when the breaker opened", GiveUps, []attribute.KeyValue{incr, conn, str("retryable.reason", "circuit_open")}, 1, 1},
		{"the budgeted GET gave up with the node's error", GiveUps, []attribute.KeyValue{get, conn, str("retryable.reason", "retry_budget_exhausted")}, 1, 1},
		{"every give-up", GiveUps, nil, 4, 4},
		{"the breaker refused INCR's retry, then an INCR", Refusals, append([]attribute.KeyValue{incr, str("retryable.refused_by", "breaker")}, node...), 2, 2},
		{"the breaker refused SET", Refusals, append([]attribute.KeyValue{set, str("retryable.refused_by", "breaker")}, node...), 1, 1},
		{"the budget refused a retry", Refusals, []attribute.KeyValue{get, str("retryable.refused_by", "budget")}, 1, 1},
		{"the limiter refused PING", Refusals, []attribute.KeyValue{str("db.operation.name", "PING"), str("retryable.refused_by", "limiter")}, 1, 1},
		{"every refusal", Refusals, nil, 5, 5},
		{"the breaker opened", BreakerTransitions, append([]attribute.KeyValue{str("retryable.breaker.previous_state", "closed"), str("retryable.breaker.state", "open")}, node...), 1, 1},
		{"the breaker PINGed the node", BreakerTransitions, append([]attribute.KeyValue{str("retryable.breaker.previous_state", "open"), str("retryable.breaker.state", "half_open")}, node...), 1, 0},
		{"the breaker closed", BreakerTransitions, append([]attribute.KeyValue{str("retryable.breaker.previous_state", "half_open"), str("retryable.breaker.state", "closed")}, node...), 1, 1},
		{"the breaker is closed now", BreakerState, append([]attribute.KeyValue{str("retryable.breaker.state", "closed")}, node...), 1, 1},
		{"the breaker is not open now", BreakerState, append([]attribute.KeyValue{str("retryable.breaker.state", "open")}, node...), 0, 0},
		{"the fallback answered GET", Fallbacks, []attribute.KeyValue{get, conn}, 1, 1},
		{"SET's failure was swallowed", SwallowedErrors, []attribute.KeyValue{set, conn}, 1, 1},
		{"the refused SET was swallowed", SwallowedErrors, []attribute.KeyValue{set, str("error.type", "CircuitOpen")}, 1, 1},
	}
	for _, c := range checks {
		got := total(ps, c.metric, c.attrs...)
		if got < c.min || c.max > 0 && got > c.max || c.max == 0 && c.min == 0 && got != 0 {
			t.Errorf("%s: %s%v = %v, want %v..%v", c.what, c.metric, c.attrs, got, c.min, c.max)
		}
	}
	// The recovered GET made 2 attempts.
	for _, p := range ps {
		if p.name == RecoveryAttempts && p.sum != 2 {
			t.Errorf("%s: sum %v, want 2", RecoveryAttempts, p.sum)
		}
	}
	// Every instrument has data.
	for _, name := range []string{AttemptFailures, Retries, RetryDelay, Recoveries, RecoveryAttempts, GiveUps, Refusals,
		BreakerState, BreakerTransitions, Fallbacks, SwallowedErrors} {
		found := false
		for _, p := range ps {
			if p.name == name {
				found = true
				if v, ok := p.attrs.Value("db.system.name"); !ok || v.AsString() != "redis" {
					t.Errorf("%s: a point without db.system.name=redis", name)
				}
			}
		}
		if !found {
			t.Errorf("no data for %s", name)
		}
	}
	// The open breaker's gauge point exists and is 0.
	open := false
	for _, p := range ps {
		if v, _ := p.attrs.Value(AttrBreakerState); p.name == BreakerState && v.AsString() == "open" {
			open = true
		}
	}
	if !open {
		t.Error("no breaker.state point for the open state")
	}
}
