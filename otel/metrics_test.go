package retryableotel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/policy"
)

// TestMain checks with goleak that no goroutine outlives the tests. It
// gives goleak a few seconds: after a failed dial go-redis starts a
// background redial that sleeps a second before it notices that its pool
// was closed, and an open breaker PINGs its node on a pool of its own, so
// the last failed PING of TestOutage may leave one behind for up to a
// second.
func TestMain(m *testing.M) {
	// go-redis logs each failed dial of the outage tests.
	redis.SetLogger(quiet{})
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(3 * time.Second)
		err := goleak.Find()
		for err != nil && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			err = goleak.Find()
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "goleak: Errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// newMetrics returns a Metrics on a fresh SDK MeterProvider and the reader
// that collects from it.
func newMetrics(t testing.TB, opts ...Option) (*Metrics, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	m, err := New(append([]Option{WithMeterProvider(mp)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return m, reader
}

// point is one data point, flattened: an instrument, its attributes and
// its value (a sum, a gauge's value, or a histogram's count).
type point struct {
	name  string
	attrs attribute.Set
	value float64
	sum   float64 // histograms only
	kind  string
}

// collect reads every data point of the scope.
func collect(t testing.TB, r *sdkmetric.ManualReader) []point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var ps []point
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != ScopeName {
			t.Errorf("scope %q, want %q", sm.Scope.Name, ScopeName)
		}
		for _, md := range sm.Metrics {
			switch d := md.Data.(type) {
			case metricdata.Sum[int64]:
				if !d.IsMonotonic {
					t.Errorf("%s is not monotonic", md.Name)
				}
				for _, dp := range d.DataPoints {
					ps = append(ps, point{name: md.Name, attrs: dp.Attributes, value: float64(dp.Value), kind: "counter " + md.Unit})
				}
			case metricdata.Gauge[int64]:
				for _, dp := range d.DataPoints {
					ps = append(ps, point{name: md.Name, attrs: dp.Attributes, value: float64(dp.Value), kind: "gauge " + md.Unit})
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					ps = append(ps, point{name: md.Name, attrs: dp.Attributes, value: float64(dp.Count), sum: dp.Sum, kind: "histogram " + md.Unit})
				}
			case metricdata.Histogram[int64]:
				for _, dp := range d.DataPoints {
					ps = append(ps, point{name: md.Name, attrs: dp.Attributes, value: float64(dp.Count), sum: float64(dp.Sum), kind: "histogram " + md.Unit})
				}
			default:
				t.Errorf("%s: unexpected data %T", md.Name, md.Data)
			}
		}
	}
	return ps
}

// total adds up the values of name's points whose attributes include
// every one of want.
func total(ps []point, name string, want ...attribute.KeyValue) float64 {
	var n float64
	for _, p := range ps {
		if p.name == name && hasAll(p.attrs, want) {
			n += p.value
		}
	}
	return n
}

func hasAll(s attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		if v, ok := s.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// dump renders points one a line, sorted: "name{k=v,...} value".
func dump(ps []point) string {
	lines := make([]string, 0, len(ps))
	for _, p := range ps {
		var kv []string
		for _, a := range p.attrs.ToSlice() {
			if a.Key == "db.system.name" {
				continue // on every point
			}
			kv = append(kv, string(a.Key)+"="+a.Value.String())
		}
		v := fmt.Sprint(p.value)
		switch p.kind {
		case "histogram s":
			v = fmt.Sprintf("count=%v sum=%.3fs", p.value, p.sum)
		case "histogram {attempt}":
			v = fmt.Sprintf("count=%v sum=%v", p.value, p.sum)
		}
		lines = append(lines, fmt.Sprintf("%s{%s} %s", p.name, strings.Join(kv, ","), v))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func str(k, v string) attribute.KeyValue { return attribute.String(k, v) }

// TestObserve feeds synthetic events, one kind at a time, and checks the
// instrument and the attributes each one lands on.
func TestObserve(t *testing.T) {
	open := &breaker.OpenError{Node: "10.0.0.7:6380", Err: errors.New("open")}
	tests := []struct {
		name   string
		events []policy.Event
		metric string
		want   []attribute.KeyValue
		value  float64
	}{
		{"retry counts a retry", []policy.Event{{Kind: policy.RetryScheduled, Command: "get", Attempt: 1, Delay: 20 * time.Millisecond, Class: retryable.Timeout}},
			Retries, []attribute.KeyValue{str("db.operation.name", "GET"), str("error.type", "Timeout"), str("db.system.name", "redis")}, 1},
		{"retry counts the failed attempt", []policy.Event{{Kind: policy.RetryScheduled, Command: "get", Attempt: 1, Class: retryable.Timeout}},
			AttemptFailures, []attribute.KeyValue{str("db.operation.name", "GET"), str("error.type", "Timeout")}, 1},
		{"retry records its delay", []policy.Event{{Kind: policy.RetryScheduled, Command: "incr", Delay: time.Second, Class: retryable.BusyLoading}},
			RetryDelay, []attribute.KeyValue{str("db.operation.name", "INCR"), str("error.type", "BusyLoading")}, 1},
		{"a retry of a call the breaker refused is no failed attempt", []policy.Event{{Kind: policy.RetryScheduled, Command: "get", Class: retryable.CircuitOpen, Err: open}},
			AttemptFailures, nil, 0},
		{"give-up by reason", []policy.Event{{Kind: policy.GaveUp, Command: "set", Attempt: 3, Class: retryable.Connection, Reason: policy.Exhausted}},
			GiveUps, []attribute.KeyValue{str("db.operation.name", "SET"), str("error.type", "Connection"), str("retryable.reason", "attempts_exhausted")}, 1},
		{"give-up counts its last attempt", []policy.Event{{Kind: policy.GaveUp, Command: "set", Attempt: 3, Class: retryable.Connection, Reason: policy.Exhausted}},
			AttemptFailures, []attribute.KeyValue{str("error.type", "Connection")}, 1},
		{"budget give-up counts the failure it stopped at", []policy.Event{{Kind: policy.GaveUp, Command: "get", Attempt: 1, Class: retryable.Timeout, Reason: policy.BudgetExhausted,
			Err: context.DeadlineExceeded}},
			AttemptFailures, []attribute.KeyValue{str("error.type", "Timeout")}, 1},
		{"budget give-up is a refusal", []policy.Event{{Kind: policy.GaveUp, Command: "get", Attempt: 1, Class: retryable.Connection, Reason: policy.BudgetExhausted}},
			Refusals, []attribute.KeyValue{str("retryable.refused_by", "budget"), str("db.operation.name", "GET")}, 1},
		{"budget give-up carries the node's error", []policy.Event{{Kind: policy.GaveUp, Command: "get", Attempt: 1, Class: retryable.Connection, Reason: policy.BudgetExhausted}},
			GiveUps, []attribute.KeyValue{str("error.type", "Connection"), str("retryable.reason", "retry_budget_exhausted")}, 1},
		{"a retry refused by the breaker is a refusal, with the node", []policy.Event{{Kind: policy.GaveUp, Command: "get", Node: "10.0.0.7:6380", Attempt: 1, Class: retryable.Connection, Reason: policy.CircuitOpen, Err: io.EOF}},
			Refusals, []attribute.KeyValue{str("retryable.refused_by", "breaker"), str("server.address", "10.0.0.7"), attribute.Int("server.port", 6380)}, 1},
		{"a give-up at the failure that opened the breaker counts it", []policy.Event{{Kind: policy.GaveUp, Command: "get", Attempt: 1, Class: retryable.Connection, Reason: policy.CircuitOpen, Err: io.EOF}},
			AttemptFailures, []attribute.KeyValue{str("error.type", "Connection")}, 1},
		{"a retry the limiter refused counts no second failure", []policy.Event{{Kind: policy.GaveUp, Command: "get", Attempt: 2, Class: retryable.Connection, Reason: policy.RateLimited, Err: io.EOF}},
			AttemptFailures, nil, 0},
		{"a retry the limiter refused is a refusal", []policy.Event{{Kind: policy.GaveUp, Command: "get", Attempt: 2, Class: retryable.Connection, Reason: policy.RateLimited, Err: io.EOF}},
			Refusals, []attribute.KeyValue{str("retryable.refused_by", "limiter")}, 1},
		{"a broken connection counts no second failure", []policy.Event{{Kind: policy.GaveUp, Command: "multi", Attempt: 1, Class: retryable.Connection, Reason: policy.ConnBroken, Err: io.EOF}},
			AttemptFailures, nil, 0},
		{"other give-ups are no refusals", []policy.Event{{Kind: policy.GaveUp, Command: "get", Attempt: 3, Class: retryable.Connection, Reason: policy.Exhausted}},
			Refusals, nil, 0},
		{"breaker refusal", []policy.Event{{Kind: policy.Refused, Command: "incr", Node: "127.0.0.1:7000", Class: retryable.CircuitOpen, Reason: policy.CircuitOpen, Err: open}},
			Refusals, []attribute.KeyValue{str("retryable.refused_by", "breaker"), str("server.address", "127.0.0.1"), attribute.Int("server.port", 7000), str("db.operation.name", "INCR")}, 1},
		{"breaker refusal at a cluster's top: the node from the error", []policy.Event{{Kind: policy.Refused, Command: "get", Class: retryable.CircuitOpen, Reason: policy.CircuitOpen, Err: open}},
			Refusals, []attribute.KeyValue{str("retryable.refused_by", "breaker"), str("server.address", "10.0.0.7")}, 1},
		{"a refusal is no failed attempt", []policy.Event{{Kind: policy.Refused, Command: "incr", Node: "127.0.0.1:7000", Class: retryable.CircuitOpen, Reason: policy.CircuitOpen, Err: open}},
			AttemptFailures, nil, 0},
		{"limiter refusal", []policy.Event{{Kind: policy.Refused, Command: "get", Node: "127.0.0.1:7000", Class: retryable.Throttled, Reason: policy.RateLimited,
			Err: &breaker.ThrottledError{Reason: breaker.ReasonRateLimit}}},
			Refusals, []attribute.KeyValue{str("retryable.refused_by", "limiter")}, 1},
		{"limiter refusal of a first attempt, reason not retryable", []policy.Event{{Kind: policy.Refused, Command: "ping", Class: retryable.Throttled, Reason: policy.NotRetryable,
			Err: &breaker.ThrottledError{Reason: breaker.ReasonRateLimit}}},
			Refusals, []attribute.KeyValue{str("retryable.refused_by", "limiter"), str("db.operation.name", "PING")}, 1},
		{"limiter refusals carry no node", []policy.Event{{Kind: policy.Refused, Command: "get", Node: "127.0.0.1:7000", Class: retryable.Throttled, Reason: policy.RateLimited}},
			Refusals, []attribute.KeyValue{str("server.address", "127.0.0.1")}, 0},
		{"recovery by the class of the last failure", []policy.Event{{Kind: policy.Recovered, Command: "get", Attempt: 2, Class: retryable.Timeout, Err: context.DeadlineExceeded}},
			Recoveries, []attribute.KeyValue{str("db.operation.name", "GET"), str("error.type", "Timeout")}, 1},
		{"recovery records its attempts", []policy.Event{
			{Kind: policy.Recovered, Command: "get", Attempt: 2, Class: retryable.Timeout},
			{Kind: policy.Recovered, Command: "get", Attempt: 3, Class: retryable.Timeout}},
			RecoveryAttempts, []attribute.KeyValue{str("db.operation.name", "GET"), str("error.type", "Timeout")}, 2},
		{"a recovery is no failed attempt", []policy.Event{{Kind: policy.Recovered, Command: "get", Attempt: 2, Class: retryable.Timeout}},
			AttemptFailures, nil, 0},
		{"transition", []policy.Event{{Kind: policy.BreakerChanged, Node: "127.0.0.1:7000", From: breaker.Closed, To: breaker.Open}},
			BreakerTransitions, []attribute.KeyValue{str("retryable.breaker.state", "open"), str("retryable.breaker.previous_state", "closed"), str("server.address", "127.0.0.1")}, 1},
		{"state: the state entered is 1", []policy.Event{
			{Kind: policy.BreakerChanged, Node: "127.0.0.1:7000", From: breaker.Closed, To: breaker.Open},
			{Kind: policy.BreakerChanged, Node: "127.0.0.1:7000", From: breaker.Open, To: breaker.HalfOpen}},
			BreakerState, []attribute.KeyValue{str("retryable.breaker.state", "half_open"), attribute.Int("server.port", 7000)}, 1},
		{"state of a node without a port", []policy.Event{{Kind: policy.BreakerChanged, Node: "sentinel", From: breaker.Closed, To: breaker.Open}},
			BreakerState, []attribute.KeyValue{str("server.address", "sentinel"), str("retryable.breaker.state", "open")}, 1},
		{"fallback", []policy.Event{{Kind: policy.FallbackUsed, Command: "get", Class: retryable.CircuitOpen}},
			Fallbacks, []attribute.KeyValue{str("db.operation.name", "GET"), str("error.type", "CircuitOpen")}, 1},
		{"swallowed", []policy.Event{{Kind: policy.Swallowed, Command: "set", Class: retryable.Connection}},
			SwallowedErrors, []attribute.KeyValue{str("db.operation.name", "SET"), str("error.type", "Connection")}, 1},
		{"pipelines", []policy.Event{{Kind: policy.GaveUp, Command: "pipeline", Class: retryable.Connection, Reason: policy.Unsafe}},
			GiveUps, []attribute.KeyValue{str("db.operation.name", "PIPELINE"), str("retryable.reason", "unsafe_to_repeat")}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, r := newMetrics(t)
			for _, e := range tt.events {
				m.Observe(e)
			}
			ps := collect(t, r)
			if got := total(ps, tt.metric, tt.want...); got != tt.value {
				t.Errorf("%s%v = %v, want %v\n%s", tt.metric, tt.want, got, tt.value, dump(ps))
			}
		})
	}
}

// TestBreakerState follows one node's breaker through a whole cycle: the
// gauge says 1 for the state it is in and 0 for every state it left.
func TestBreakerState(t *testing.T) {
	m, r := newMetrics(t)
	node := "127.0.0.1:7000"
	steps := []struct {
		from, to breaker.State
		want     map[string]float64 // state -> gauge value; missing: no point
	}{
		{breaker.Closed, breaker.Open, map[string]float64{"closed": 0, "open": 1}},
		{breaker.Open, breaker.HalfOpen, map[string]float64{"closed": 0, "open": 0, "half_open": 1}},
		{breaker.HalfOpen, breaker.Open, map[string]float64{"closed": 0, "open": 1, "half_open": 0}},
		{breaker.Open, breaker.HalfOpen, map[string]float64{"closed": 0, "open": 0, "half_open": 1}},
		{breaker.HalfOpen, breaker.Closed, map[string]float64{"closed": 1, "open": 0, "half_open": 0}},
	}
	for i, st := range steps {
		m.Observe(policy.Event{Kind: policy.BreakerChanged, Node: node, From: st.from, To: st.to})
		got := map[string]float64{}
		ps := collect(t, r)
		for _, p := range ps {
			if p.name == BreakerState {
				v, _ := p.attrs.Value(AttrBreakerState)
				got[v.AsString()] = p.value
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(st.want) {
			t.Errorf("after step %d (%v -> %v): states %v, want %v", i+1, st.from, st.to, got, st.want)
		}
		if n := total(ps, BreakerTransitions); n != float64(i+1) {
			t.Errorf("after step %d: %v transitions", i+1, n)
		}
	}
}

func TestObserveDelaySeconds(t *testing.T) {
	m, r := newMetrics(t)
	m.Observe(policy.Event{Kind: policy.RetryScheduled, Command: "get", Delay: 250 * time.Millisecond, Class: retryable.Timeout})
	m.Observe(policy.Event{Kind: policy.RetryScheduled, Command: "get", Delay: 50 * time.Millisecond, Class: retryable.Timeout})
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, md := range rm.ScopeMetrics[0].Metrics {
		if md.Name != RetryDelay {
			continue
		}
		h := md.Data.(metricdata.Histogram[float64])
		dp := h.DataPoints[0]
		if dp.Count != 2 || dp.Sum < 0.2999 || dp.Sum > 0.3001 || md.Unit != "s" {
			t.Errorf("count %d sum %v unit %q, want 2, 0.3, s", dp.Count, dp.Sum, md.Unit)
		}
		if !slices.Equal(dp.Bounds, DefaultDelayBuckets()) {
			t.Errorf("bounds %v, want %v", dp.Bounds, DefaultDelayBuckets())
		}
		return
	}
	t.Fatal("no delay histogram")
}

// TestRecoveryAttempts checks the histogram of attempts per recovered
// call: one bucket per attempt count up to 6.
func TestRecoveryAttempts(t *testing.T) {
	m, r := newMetrics(t)
	for _, n := range []int{2, 2, 3, 5} {
		m.Observe(policy.Event{Kind: policy.Recovered, Command: "get", Attempt: n, Class: retryable.Connection})
	}
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, md := range rm.ScopeMetrics[0].Metrics {
		if md.Name != RecoveryAttempts {
			continue
		}
		dp := md.Data.(metricdata.Histogram[int64]).DataPoints[0]
		if dp.Count != 4 || dp.Sum != 12 || md.Unit != "{attempt}" {
			t.Errorf("count %d sum %v unit %q, want 4, 12, {attempt}", dp.Count, dp.Sum, md.Unit)
		}
		if !slices.Equal(dp.Bounds, DefaultAttemptBuckets()) {
			t.Errorf("bounds %v, want %v", dp.Bounds, DefaultAttemptBuckets())
		}
		if want := []uint64{2, 1, 0, 1, 0, 0, 0, 0, 0, 0}; !slices.Equal(dp.BucketCounts, want) {
			t.Errorf("bucket counts %v, want %v", dp.BucketCounts, want)
		}
		return
	}
	t.Fatal("no attempts histogram")
}

func TestOptions(t *testing.T) {
	m, r := newMetrics(t, WithAttributes(attribute.String("app", "shop")), WithDelayBuckets(0.1, 1))
	m.Observe(policy.Event{Kind: policy.RetryScheduled, Command: "get", Delay: 50 * time.Millisecond, Class: retryable.Timeout})
	ps := collect(t, r)
	if total(ps, Retries, str("app", "shop")) != 1 {
		t.Errorf("WithAttributes: no app=shop\n%s", dump(ps))
	}
	if _, err := New(WithMeterProvider(sdkmetric.NewMeterProvider()), WithDelayBuckets(1, 0.1)); err == nil ||
		!strings.HasPrefix(err.Error(), "retryableotel: ") {
		t.Errorf("decreasing buckets: %v, want an error from New", err)
	}
	var nilMetrics *Metrics
	nilMetrics.Observe(policy.Event{Kind: policy.GaveUp}) // must not panic
}

// TestObserveAllocs checks that an attribute set seen before costs no
// allocation: Observe runs on every failed call of an outage.
func TestObserveAllocs(t *testing.T) {
	m, _ := newMetrics(t)
	events := []policy.Event{
		{Kind: policy.RetryScheduled, Command: "get", Delay: time.Millisecond, Class: retryable.Timeout},
		{Kind: policy.GaveUp, Command: "get", Class: retryable.Timeout, Reason: policy.Exhausted},
		{Kind: policy.GaveUp, Command: "get", Node: "127.0.0.1:7000", Class: retryable.Timeout, Reason: policy.CircuitOpen},
		{Kind: policy.Refused, Command: "get", Node: "127.0.0.1:7000", Class: retryable.CircuitOpen, Reason: policy.CircuitOpen},
		{Kind: policy.Recovered, Command: "get", Attempt: 2, Class: retryable.Timeout},
		{Kind: policy.FallbackUsed, Command: "get", Class: retryable.CircuitOpen},
	}
	for _, e := range events {
		m.Observe(e)
		if n := testing.AllocsPerRun(100, func() { m.Observe(e) }); n > 0 {
			t.Errorf("%v: %v allocations per Observe", e.Kind, n)
		}
	}
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{
		"attempts exhausted": "attempts_exhausted", "half-open": "half_open", "circuit open": "circuit_open",
		"retries disabled for this call": "retries_disabled_for_this_call", "Closed": "closed",
	} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkObserve(b *testing.B) {
	m, _ := newMetrics(b)
	e := policy.Event{Kind: policy.Refused, Command: "get", Node: "127.0.0.1:7000", Class: retryable.CircuitOpen, Reason: policy.CircuitOpen}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Observe(e)
		}
	})
}
