package policytest

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
)

// testCalls are calls a millisecond apart, starting at t0, each taking
// its index in milliseconds.
func testCalls(t0 time.Time, errs ...error) []Call {
	calls := make([]Call, len(errs))
	for i, err := range errs {
		calls[i] = Call{Worker: i % 2, Start: t0.Add(time.Duration(i) * time.Millisecond),
			Took: time.Duration(i) * time.Millisecond, Err: err, Class: retryable.Classify(err)}
	}
	return calls
}

func TestBetween(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	calls := testCalls(t0, nil, nil, nil, nil, nil)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	tests := []struct {
		from, to time.Time
		want     []int // indexes
	}{
		{ms(1), ms(3), []int{1, 2}},
		{ms(0), ms(5), []int{0, 1, 2, 3, 4}},
		{ms(4), ms(100), []int{4}},
		{ms(2), ms(2), nil},
		{ms(3), ms(1), nil},
	}
	for _, tt := range tests {
		var want []Call
		for _, i := range tt.want {
			want = append(want, calls[i])
		}
		if got := Between(calls, tt.from, tt.to); !slices.Equal(got, want) {
			t.Errorf("Between(+%v, +%v) = %v, want %v", tt.from.Sub(t0), tt.to.Sub(t0), got, want)
		}
	}
}

func TestFailedAndClasses(t *testing.T) {
	t.Parallel()
	eof := io.EOF
	refused := errors.New("some data error")
	calls := testCalls(time.Unix(1000, 0), nil, redis.Nil, eof, eof, refused)
	if got := Failed(calls); !slices.Equal(got, calls[2:]) {
		t.Errorf("Failed = %v, want the last three (a miss is no failure)", got)
	}
	counts := CountClasses(calls)
	want := map[retryable.Class]int{retryable.OK: 2, retryable.Connection: 2, retryable.Data: 1}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("CountClasses = %v, want %v", counts, want)
	}
	if got := ClassSummary(counts); got != "OK=2 Connection=2 Data=1" {
		t.Errorf("ClassSummary = %q", got)
	}
	if got := ClassSummary(nil); got != "" {
		t.Errorf("ClassSummary(nil) = %q, want empty", got)
	}
	if got := PerWorker(calls, 2, nil); !slices.Equal(got, []int{1, 1}) {
		t.Errorf("PerWorker(nil match) = %v, want [1 1] (OK calls: 0 and 1)", got)
	}
	if got := PerWorker(calls, 1, func(c Call) bool { return c.Class != retryable.OK }); !slices.Equal(got, []int{2}) {
		t.Errorf("PerWorker(failed, 1 worker) = %v, want [2] (calls 2 and 4; worker 1 left out)", got)
	}
	if got := DistinctErrors(calls, 5); !slices.Equal(got, []string{"EOF", "some data error"}) {
		t.Errorf("DistinctErrors(5) = %q", got)
	}
	if got := DistinctErrors(calls, 1); !slices.Equal(got, []string{"EOF"}) {
		t.Errorf("DistinctErrors(1) = %q", got)
	}
	if got := DistinctErrors(calls[:2], 3); got != nil {
		t.Errorf("DistinctErrors of a success and a miss = %q, want none", got)
	}
}

func TestLatenciesAndQuantile(t *testing.T) {
	t.Parallel()
	calls := testCalls(time.Unix(1000, 0), nil, nil, nil, nil, nil)
	ds := Latencies(calls)
	ms := time.Millisecond
	if !slices.Equal(ds, []time.Duration{0, ms, 2 * ms, 3 * ms, 4 * ms}) {
		t.Fatalf("Latencies = %v", ds)
	}
	shuffled := []time.Duration{3 * ms, 0, 4 * ms, ms, 2 * ms}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0, 0}, {0.5, 2 * ms}, {0.99, 3 * ms}, {1, 4 * ms}, {-1, 0}, {2, 4 * ms}} {
		if got := Quantile(shuffled, tc.q); got != tc.want {
			t.Errorf("Quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if shuffled[0] != 3*ms {
		t.Errorf("Quantile sorted its argument: %v", shuffled)
	}
	if got := Quantile(nil, 0.5); got != 0 {
		t.Errorf("Quantile(nil) = %v, want 0", got)
	}
}
