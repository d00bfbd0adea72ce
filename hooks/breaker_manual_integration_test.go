package hooks_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/internal/redistest"
	"github.com/go-retryable/retryable/internal/redistest/policytest"
	"github.com/go-retryable/retryable/policy"
)

// Real-Redis tests of a breaker under manual control.

// TestIntegrationManualControl isolates a node by hand: ForceOpen refuses
// every call without touching the server, ForceClose lets calls through
// even to a failing node, Release returns to automatic operation, and every
// transition is reported exactly once.
func TestIntegrationManualControl(t *testing.T) {
	t.Parallel()
	const openTimeout = 300 * time.Millisecond
	srv := redistest.Start(t)
	px := redistest.NewProxy(t, srv.Addr())
	node := px.Addr()
	log := &policytest.Recorder{}
	obs := &policytest.Recorder{}
	p, err := policy.New(
		policy.RetryOn(retryable.Connection),
		policy.MaxAttempts(2),
		policy.Backoff(backoff.Constant(time.Millisecond)),
		policy.Breaker(breaker.Settings{ConsecutiveFailures: 3, OpenTimeout: openTimeout, OnStateChange: log.OnStateChange}),
		policy.Observe(obs.Observe),
	)
	if err != nil {
		t.Fatal(err)
	}
	c := itClient(t, &redis.Options{Addr: node, DialTimeout: time.Second, ReadTimeout: time.Second}, p)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	brk := p.Breakers().Get(node)
	wantChanges := func(t *testing.T, what string, want ...[2]breaker.State) {
		t.Helper()
		got := log.Changes(node)
		ok := len(got) == len(want)
		for i := 0; ok && i < len(want); i++ {
			ok = got[i].From == want[i][0] && got[i].To == want[i][1]
		}
		if !ok {
			t.Fatalf("%s: transitions %v; want %v", what, got, want)
		}
	}
	gets := func(n int) (classes map[retryable.Class]int, took []time.Duration, last error) {
		classes = make(map[retryable.Class]int)
		for range n {
			t0 := time.Now()
			err := c.Get(ctx, "k").Err()
			took = append(took, time.Since(t0))
			classes[retryable.Classify(err)]++
			if err != nil {
				last = err
			}
		}
		return classes, took, last
	}

	// ForceOpen: refused here, the server never hears of it.
	step(t, "ForceOpen", func(t *testing.T) {
		getsBefore, dialsBefore := srv.CommandStat(t, "get").Reached(), px.Dials()
		brk.ForceOpen()
		wantChanges(t, "ForceOpen", [2]breaker.State{breaker.Closed, breaker.Open})
		if cs := brk.Counts(); cs.State != breaker.Open || !cs.Forced || cs.RetryIn != 0 {
			t.Errorf("after ForceOpen: %+v; want open, forced, RetryIn 0", cs)
		}
		classes, took, last := gets(200)
		_, perr := c.Pipelined(ctx, func(pipe redis.Pipeliner) error {
			pipe.Get(ctx, "k")
			pipe.Get(ctx, "k")
			return nil
		})
		t.Logf("forced open: 200 GETs [%s] in p50 %v p99 %v; pipeline: %v", policytest.ClassSummary(classes),
			policytest.Quantile(took, 0.5), policytest.Quantile(took, 0.99), perr)
		if classes[retryable.CircuitOpen] != 200 {
			t.Errorf("forced open: GETs ended [%s]; want all CircuitOpen", policytest.ClassSummary(classes))
		}
		if oe, ok := errors.AsType[*breaker.OpenError](last); !ok || oe.Node != node || oe.RetryIn != 0 || !errors.Is(last, gobreaker.ErrOpenState) {
			t.Errorf("forced open: err %v (%T); want *breaker.OpenError for %s, RetryIn 0, wrapping gobreaker.ErrOpenState", last, last, node)
		}
		if got := retryable.Classify(perr); got != retryable.CircuitOpen {
			t.Errorf("forced open: pipeline err %v classifies as %v; want CircuitOpen", perr, got)
		}
		if p50 := policytest.Quantile(took, 0.5); p50 >= time.Millisecond {
			t.Errorf("forced open: GET p50 %v; want under 1ms", p50)
		}
		if got := srv.CommandStat(t, "get").Reached() - getsBefore; got != 0 {
			t.Errorf("forced open: server ran %d GETs; want 0", got)
		}
		if got := px.Dials() - dialsBefore; got != 0 {
			t.Errorf("forced open: %d dials; want 0", got)
		}
	})

	// ForceClose: everything goes through, even to a failing node, and
	// nothing counts.
	step(t, "ForceClose", func(t *testing.T) {
		brk.ForceClose()
		wantChanges(t, "ForceClose", [2]breaker.State{breaker.Closed, breaker.Open}, [2]breaker.State{breaker.Open, breaker.Closed})
		px.SetRefuse(true)
		px.CloseConns()
		dialsBefore := px.Dials()
		classes, _, last := gets(20)
		dials := px.Dials() - dialsBefore
		t.Logf("forced closed, node refusing: 20 GETs [%s], %d dials; last error %v", policytest.ClassSummary(classes), dials, last)
		if classes[retryable.Connection] != 20 {
			t.Errorf("forced closed, node refusing: GETs ended [%s]; want all Connection", policytest.ClassSummary(classes))
		}
		if dials < 20 {
			t.Errorf("forced closed, node refusing: %d dials for 20 calls; want every call to reach the node", dials)
		}
		if cs := brk.Counts(); cs.State != breaker.Closed || !cs.Forced || cs.ConsecutiveFailures != 0 {
			t.Errorf("forced closed after 20 failures: %+v; want closed, forced, nothing counted", cs)
		}
		px.SetRefuse(false)
		getsBefore := srv.CommandStat(t, "get").Reached()
		if classes, _, last := gets(20); classes[retryable.OK] != 20 {
			t.Errorf("forced closed, node back: GETs ended [%s] (%v); want all OK", policytest.ClassSummary(classes), last)
		}
		if got := srv.CommandStat(t, "get").Reached() - getsBefore; got != 20 {
			t.Errorf("forced closed: server ran %d GETs; want 20", got)
		}
	})

	// Release: automatic again, from a fresh closed state, not reported
	// (it was closed already).
	var releasedAt time.Time
	step(t, "Release", func(t *testing.T) {
		releasedAt = time.Now()
		brk.Release()
		if cs := brk.Counts(); cs.State != breaker.Closed || cs.Forced {
			t.Errorf("after Release: %+v; want closed, not forced", cs)
		}
		wantChanges(t, "Release", [2]breaker.State{breaker.Closed, breaker.Open}, [2]breaker.State{breaker.Open, breaker.Closed})
	})

	// Automatic: the breaker opens and closes by itself.
	step(t, "automatic", func(t *testing.T) {
		px.SetRefuse(true)
		px.CloseConns()
		// Threshold 3: a call counts once, however many attempts it makes,
		// so the third failing call opens the breaker; each returns the
		// node's own error, since each reached the node.
		for i := 1; i <= 3; i++ {
			if err := c.Get(ctx, "k").Err(); retryable.Classify(err) != retryable.Connection || itRefusal(err) {
				t.Errorf("automatic, node refusing, call %d: GET err %v; want go-redis's Connection error", i, err)
			}
			if cs := brk.Counts(); i < 3 && (cs.State != breaker.Closed || cs.ConsecutiveFailures != uint32(i)) {
				t.Errorf("automatic, after %d failing calls of 2 attempts: %+v; want closed with %d consecutive failures", i, cs, i)
			}
		}
		if st := brk.Counts().State; st != breaker.Open {
			t.Fatalf("automatic: breaker %v after 3 failed calls (threshold 3); want open", st)
		}
		dialsBefore := px.Dials()
		if err := c.Get(ctx, "k").Err(); retryable.Classify(err) != retryable.CircuitOpen {
			t.Errorf("automatic, open: GET err %v; want CircuitOpen", err)
		}
		if got := px.Dials() - dialsBefore; got != 0 {
			t.Errorf("automatic, open: %d dials; want 0", got)
		}
		px.SetRefuse(false)
		opened, ok := log.FindChange(node, breaker.Closed, breaker.Open, releasedAt)
		if !ok {
			t.Fatalf("automatic: the breaker is open but reported no closed->open: %v", log.Changes(node))
		}
		var recovered time.Time
		redistest.WaitFor(t, 5*time.Second, func() bool {
			if c.Get(ctx, "k").Err() == nil {
				recovered = time.Now()
				return true
			}
			return false
		})
		t.Logf("automatic: opened on the third failed attempt, first success %v later (OpenTimeout %v)",
			recovered.Sub(opened.At).Round(time.Millisecond), openTimeout)
		// The first open time is jittered down to half of OpenTimeout.
		if d := recovered.Sub(opened.At); d < openTimeout/2 {
			t.Errorf("automatic: a call succeeded %v after the breaker opened; want none before half its OpenTimeout %v", d, openTimeout)
		}
		if st := brk.State(); st != breaker.Closed {
			t.Errorf("automatic: breaker %v after a successful probe; want closed", st)
		}
		want := [][2]breaker.State{
			{breaker.Closed, breaker.Open}, {breaker.Open, breaker.Closed}, // forced
			{breaker.Closed, breaker.Open}, {breaker.Open, breaker.HalfOpen}, {breaker.HalfOpen, breaker.Closed}, // automatic
		}
		wantChanges(t, "automatic", want...)
	})
	if got := obs.Changes(node); !policytest.SameChanges(got, log.Changes(node)) {
		t.Errorf("Observe saw breaker changes %v; OnStateChange saw %v", got, log.Changes(node))
	}
}
