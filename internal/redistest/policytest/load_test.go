package policytest

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/internal/redistest"
)

func TestLoadRecordsEveryCall(t *testing.T) {
	t.Parallel()
	errs := []error{nil, redis.Nil, io.EOF}
	const pace = 2 * time.Millisecond
	began := time.Now()
	l := StartLoad(t, len(errs), pace, func(w int) error { return errs[w] })
	l.AwaitProgress(t, 5*time.Second, 5, func(Call) bool { return true })
	calls := l.Stop()
	elapsed := time.Since(began)

	if again := l.Stop(); len(again) != len(calls) {
		t.Errorf("a second Stop returned %d calls, the first %d", len(again), len(calls))
	}
	time.Sleep(3 * pace)
	if n := len(l.Snapshot()); n != len(calls) {
		t.Errorf("%d calls after Stop returned %d: the workers did not stop", n, len(calls))
	}
	last := make([]time.Time, len(errs))
	for i, c := range calls {
		if c.Worker < 0 || c.Worker >= len(errs) {
			t.Fatalf("call %d: worker %d", i, c.Worker)
		}
		if c.Err != errs[c.Worker] || c.Class != retryable.Classify(errs[c.Worker]) {
			t.Errorf("call %d of worker %d: err %v class %v; want %v, %v", i, c.Worker, c.Err, c.Class, errs[c.Worker], retryable.Classify(errs[c.Worker]))
		}
		if c.Start.Before(began) || c.Took < 0 || c.End() != c.Start.Add(c.Took) {
			t.Errorf("call %d: start %v took %v end %v", i, c.Start, c.Took, c.End())
		}
		if c.Start.Before(last[c.Worker]) {
			t.Errorf("call %d of worker %d started before that worker's previous call returned", i, c.Worker)
		}
		last[c.Worker] = c.End()
	}
	// The first call at once, then one per pace at most.
	limit := int(elapsed/pace) + 2
	for w, n := range PerWorker(calls, len(errs), func(Call) bool { return true }) {
		if n < 5 || n > limit {
			t.Errorf("worker %d made %d calls in %v at a %v pace; want 5..%d", w, n, elapsed, pace, limit)
		}
	}
}

func TestLoadPace(t *testing.T) {
	t.Parallel()
	t.Run("first call at once, then paced", func(t *testing.T) {
		l := StartLoad(t, 2, time.Hour, func(int) error { return nil })
		// Not AwaitProgress: a worker whose first call came before it
		// would never make the next one at this pace.
		if !redistest.Poll(time.Second, func() bool {
			n := PerWorker(l.Snapshot(), 2, nil)
			return n[0] >= 1 && n[1] >= 1
		}) {
			t.Fatalf("the first calls were not made at once: %v", PerWorker(l.Snapshot(), 2, nil))
		}
		time.Sleep(30 * time.Millisecond)
		if got := PerWorker(l.Stop(), 2, nil); got[0] != 1 || got[1] != 1 {
			t.Errorf("calls per worker at a 1h pace: %v; want [1 1]", got)
		}
	})
	t.Run("back to back", func(t *testing.T) {
		l := StartLoad(t, 1, 0, func(int) error { return nil })
		l.AwaitProgress(t, time.Second, 100, nil)
	})
}

func TestLoadStopsAtCleanup(t *testing.T) {
	t.Parallel()
	var l *Load
	t.Run("load", func(t *testing.T) {
		l = StartLoad(t, 2, 0, func(int) error { return errors.New("x") })
		l.AwaitProgress(t, time.Second, 1, func(c Call) bool { return c.Class == retryable.Data })
	})
	n := len(l.Snapshot())
	time.Sleep(10 * time.Millisecond)
	if got := len(l.Snapshot()); got != n {
		t.Errorf("the Load made %d calls after its test ended", got-n)
	}
}

func TestStartLoadRefusesBadArguments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		workers int
		pace    time.Duration
	}{{0, 0}, {-1, time.Millisecond}, {1, -time.Millisecond}} {
		msg := fatalOf(t, func(tb testing.TB) { StartLoad(tb, tc.workers, tc.pace, func(int) error { return nil }) })
		if !strings.Contains(msg, "want at least one worker") {
			t.Errorf("StartLoad(%d, %v): fatal %q; want a refusal", tc.workers, tc.pace, msg)
		}
	}
}

func TestAwaitProgressFails(t *testing.T) {
	t.Parallel()
	l := StartLoad(t, 2, time.Millisecond, func(w int) error {
		if w == 1 {
			return io.EOF
		}
		return nil
	})
	msg := fatalOf(t, func(tb testing.TB) { l.AwaitProgress(tb, 50*time.Millisecond, 3, nil) })
	if !strings.Contains(msg, "not every worker made 3 more matching calls within 50ms") || !strings.HasSuffix(msg, " 0] after") {
		t.Errorf("AwaitProgress with a worker that never succeeds: fatal %q; want a timeout that shows worker 1 at 0", msg)
	}
}

func TestProgressed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, now []int
		n         int
		want      bool
	}{
		{[]int{0, 0}, []int{3, 3}, 3, true},
		{[]int{1, 5}, []int{4, 7}, 3, false},
		{[]int{1, 5}, []int{4, 8}, 3, true},
		{[]int{2}, []int{2}, 0, true},
		{[]int{}, []int{}, 5, true},
	}
	for _, tt := range tests {
		if got := progressed(tt.from, tt.now, tt.n); got != tt.want {
			t.Errorf("progressed(%v, %v, %d) = %v, want %v", tt.from, tt.now, tt.n, got, tt.want)
		}
	}
}
