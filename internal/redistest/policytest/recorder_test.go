package policytest

import (
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/policy"
)

func TestRecorderCounts(t *testing.T) {
	t.Parallel()
	var r Recorder
	events := []policy.Event{
		{Kind: policy.RetryScheduled, Command: "get", Class: retryable.Connection, Err: io.EOF},
		{Kind: policy.RetryScheduled, Command: "get", Class: retryable.Timeout},
		{Kind: policy.RetryScheduled, Command: "set", Class: retryable.ReadOnly},
		{Kind: policy.GaveUp, Command: "get", Class: retryable.Connection, Reason: policy.Exhausted},
		{Kind: policy.Refused, Command: "incr", Class: retryable.CircuitOpen},
	}
	var wg sync.WaitGroup
	const goroutines = 8
	for range goroutines {
		wg.Go(func() {
			for _, e := range events {
				r.Observe(e)
			}
		})
	}
	wg.Wait()
	if n := len(r.Events()); n != goroutines*len(events) {
		t.Fatalf("%d events recorded, want %d", n, goroutines*len(events))
	}
	tests := []struct {
		kind    policy.EventKind
		cmd     string
		classes []retryable.Class
		want    int
	}{
		{policy.RetryScheduled, "", nil, 3},
		{policy.RetryScheduled, "get", nil, 2},
		{policy.RetryScheduled, "get", []retryable.Class{retryable.Connection}, 2}, // Timeout is a kind of Connection
		{policy.RetryScheduled, "get", []retryable.Class{retryable.Timeout}, 1},
		{policy.RetryScheduled, "", []retryable.Class{retryable.Timeout, retryable.ReadOnly}, 2},
		{policy.RetryScheduled, "incr", nil, 0},
		{policy.GaveUp, "", nil, 1},
		{policy.Refused, "incr", []retryable.Class{retryable.Throttled}, 0},
		{policy.BreakerChanged, "", nil, 0},
	}
	for _, tt := range tests {
		if got := r.Count(tt.kind, tt.cmd, tt.classes...); got != tt.want*goroutines {
			t.Errorf("Count(%v, %q, %v) = %d, want %d", tt.kind, tt.cmd, tt.classes, got, tt.want*goroutines)
		}
	}
}

func TestRecorderSummary(t *testing.T) {
	t.Parallel()
	var r Recorder
	if got := r.Summary(); got != "" {
		t.Errorf("Summary of nothing = %q, want empty", got)
	}
	r.Observe(policy.Event{Kind: policy.RetryScheduled, Command: "get", Class: retryable.Connection})
	r.Observe(policy.Event{Kind: policy.RetryScheduled, Command: "get", Class: retryable.Connection})
	r.Observe(policy.Event{Kind: policy.GaveUp, Command: "get", Class: retryable.Connection, Reason: policy.Exhausted})
	r.OnStateChange("n1", breaker.Closed, breaker.Open)
	want := "[breaker changed n1 closed->open: 1] [gave up get Connection (" + policy.Exhausted.String() + "): 1] [retry scheduled get Connection: 2]"
	if got := r.Summary(); got != want {
		t.Errorf("Summary =\n%q, want\n%q", got, want)
	}
}

func TestRecorderChanges(t *testing.T) {
	t.Parallel()
	var dials atomic.Int64
	r := &Recorder{Dials: dials.Load}
	dials.Store(3)
	r.OnStateChange("a", breaker.Closed, breaker.Open)
	r.Observe(policy.Event{Kind: policy.RetryScheduled, Command: "get"})
	mid := time.Now()
	dials.Store(7)
	r.Observe(policy.Event{Kind: policy.BreakerChanged, Node: "b", From: breaker.Closed, To: breaker.Open})
	r.OnStateChange("a", breaker.Open, breaker.HalfOpen)
	r.OnStateChange("a", breaker.HalfOpen, breaker.Open)

	all := r.Changes("")
	if len(all) != 4 || all[1].Node != "b" {
		t.Fatalf("Changes(\"\") = %v, want the four changes in order", all)
	}
	a := r.Changes("a")
	if len(a) != 3 || a[0].Dials != 3 || a[1].Dials != 7 || a[0].String() != "closed->open" {
		t.Errorf("Changes(a) = %+v; want three, with the dial counts 3, 7, 7", a)
	}
	if a[0].At.After(mid) || a[1].At.Before(mid) {
		t.Errorf("arrival times %v, %v around %v", a[0].At, a[1].At, mid)
	}
	if c, ok := r.FindChange("a", breaker.Closed, breaker.Open, time.Time{}); !ok || c.Dials != 3 {
		t.Errorf("FindChange(a, closed->open) = %+v, %v", c, ok)
	}
	if c, ok := r.FindChange("a", breaker.Closed, breaker.Open, mid); ok {
		t.Errorf("FindChange(a, closed->open, since mid) = %+v; want none", c)
	}
	if _, ok := r.FindChange("b", breaker.Closed, breaker.Open, mid); !ok {
		t.Error("FindChange(b, closed->open, since mid): not found")
	}
	if n := len(r.Events()); n != 5 {
		t.Errorf("%d events, want 5 (the changes are events too)", n)
	}
}

func TestRecorderAwaitChange(t *testing.T) {
	t.Parallel()
	var r Recorder
	since := time.Now()
	go func() {
		time.Sleep(20 * time.Millisecond)
		r.OnStateChange("n", breaker.Closed, breaker.Open)
	}()
	c := r.AwaitChange(t, 5*time.Second, "n", breaker.Closed, breaker.Open, since)
	if c.Node != "n" || c.At.Sub(since) < 20*time.Millisecond {
		t.Errorf("AwaitChange = %+v; want n's change, 20ms or more after %v", c, since)
	}
	msg := fatalOf(t, func(tb testing.TB) {
		r.AwaitChange(tb, 30*time.Millisecond, "n", breaker.HalfOpen, breaker.Closed, since)
	})
	if !strings.Contains(msg, "did not report half-open->closed within 30ms") || !strings.Contains(msg, "[closed->open]") {
		t.Errorf("AwaitChange timing out: fatal %q; want the timeout and the changes so far", msg)
	}
}

func TestRecorderZeroValueEvents(t *testing.T) {
	t.Parallel()
	var r Recorder
	if r.Events() == nil || len(r.Events()) != 0 || r.Changes("") != nil || r.Count(policy.GaveUp, "") != 0 {
		t.Errorf("a zero Recorder: events %v, changes %v", r.Events(), r.Changes(""))
	}
	e := errors.New("x")
	r.Observe(policy.Event{Kind: policy.Swallowed, Err: e})
	if got := r.Events(); len(got) != 1 || got[0].Err != e {
		t.Errorf("Events = %v", got)
	}
}
