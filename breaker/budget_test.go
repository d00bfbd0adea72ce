package breaker

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBudgetSettingsValidate(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name    string
		s       BudgetSettings
		setting string
	}{
		{"zero", BudgetSettings{}, ""},
		{"default", DefaultBudgetSettings(), ""},
		{"full", BudgetSettings{Ratio: 0.2, MaxCredit: 50, MinPerSecond: 10, MaxPerSecond: 100, Burst: 20}, ""},
		{"ratio negative", BudgetSettings{Ratio: -0.1}, "BudgetSettings.Ratio"},
		{"ratio NaN", BudgetSettings{Ratio: nan}, "BudgetSettings.Ratio"},
		{"ratio Inf", BudgetSettings{Ratio: inf}, "BudgetSettings.Ratio"},
		{"max credit negative", BudgetSettings{MaxCredit: -1}, "BudgetSettings.MaxCredit"},
		{"max credit below 1", BudgetSettings{Ratio: 0.1, MaxCredit: 0.5}, "BudgetSettings.MaxCredit"},
		{"min rate NaN", BudgetSettings{MinPerSecond: nan}, "BudgetSettings.MinPerSecond"},
		{"min rate negative", BudgetSettings{MinPerSecond: -1}, "BudgetSettings.MinPerSecond"},
		{"max rate Inf", BudgetSettings{MaxPerSecond: inf}, "BudgetSettings.MaxPerSecond"},
		{"max below min", BudgetSettings{Ratio: 0.1, MinPerSecond: 10, MaxPerSecond: 5}, "BudgetSettings.MaxPerSecond"},
		{"burst negative", BudgetSettings{MaxPerSecond: 5, Burst: -1}, "BudgetSettings.Burst"},
		{"burst without ceiling", BudgetSettings{Burst: 5}, "BudgetSettings.Burst"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			_, nerr := NewBudget(tt.s)
			if tt.setting == "" {
				if err != nil || nerr != nil {
					t.Fatalf("Validate %v, NewBudget %v; want no error", err, nerr)
				}
				return
			}
			if nerr == nil || !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), "breaker: "+tt.setting+" ") {
				t.Fatalf("Validate %v, NewBudget %v; want errors matching ErrInvalid naming %s", err, nerr, tt.setting)
			}
		})
	}
}

func newTestBudget(t *testing.T, s BudgetSettings) (*Budget, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	b, err := NewBudget(s)
	if err != nil {
		t.Fatal(err)
	}
	b.now = clock.Now
	return b, clock
}

func allowed(b *Budget, n int) int {
	ok := 0
	for range n {
		if b.AllowRetry() {
			ok++
		}
	}
	return ok
}

func TestBudgetRatioBound(t *testing.T) {
	const requests, ratio, floor = 10000, 0.1, 10
	for _, tries := range []int{1, 3, 10} { // retries attempted per request
		t.Run(fmt.Sprint(tries), func(t *testing.T) {
			b, _ := newTestBudget(t, BudgetSettings{Ratio: ratio, MinPerSecond: floor, MaxCredit: 1e9})
			ok := 0
			for range requests {
				b.Request()
				ok += allowed(b, tries)
			}
			// The clock does not move: the floor gives its burst only.
			if limit := int(requests*ratio) + floor; ok > limit || ok < int(requests*ratio) {
				t.Fatalf("%d retries allowed for %d requests, want between %d and %d", ok, requests, int(requests*ratio), limit)
			}
			r, rt, rf := b.Stats()
			if r != requests || rt != uint64(ok) || rf != uint64(requests*tries-ok) {
				t.Fatalf("Stats %d, %d, %d; want %d, %d, %d", r, rt, rf, requests, ok, requests*tries-ok)
			}
		})
	}
}

func TestBudgetConcurrent(t *testing.T) {
	const workers, each, ratio, floor = 8, 2000, 0.2, 5
	b, _ := newTestBudget(t, BudgetSettings{Ratio: ratio, MinPerSecond: floor, MaxCredit: 1e9})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				b.Request()
				b.AllowRetry()
				b.AllowRetry()
			}
		})
	}
	wg.Wait()
	requests, retries, refused := b.Stats()
	if requests != workers*each || retries+refused != 2*workers*each {
		t.Fatalf("Stats %d, %d, %d: calls lost", requests, retries, refused)
	}
	if limit := uint64(workers*each*ratio) + floor; retries > limit {
		t.Fatalf("%d retries allowed for %d requests, limit %d", retries, requests, limit)
	}
	// Every request was followed by its own retries, so the credit was
	// spent as it came: at most one retry's worth is left unused per
	// concurrent worker.
	if least := uint64(workers*each*ratio) - workers; retries < least {
		t.Fatalf("only %d retries allowed for %d requests, want at least %d", retries, requests, least)
	}
}

func TestBudgetMaxCredit(t *testing.T) {
	tests := []struct {
		name string
		s    BudgetSettings
		want int
	}{
		{"default", BudgetSettings{Ratio: 0.5}, DefaultMaxCredit},
		{"set", BudgetSettings{Ratio: 0.5, MaxCredit: 7}, 7},
		{"with floor", BudgetSettings{Ratio: 0.5, MaxCredit: 7, MinPerSecond: 3}, 7 + 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBudget(t, tt.s)
			for range 100000 { // a long healthy period
				b.Request()
			}
			if got := allowed(b, 1000); got != tt.want {
				t.Fatalf("%d retries allowed from banked credit, want the cap %d", got, tt.want)
			}
		})
	}
}

func TestBudgetFloor(t *testing.T) {
	b, clock := newTestBudget(t, BudgetSettings{Ratio: 0.1, MinPerSecond: 5})
	if got := allowed(b, 100); got != 5 {
		t.Fatalf("%d retries allowed with no traffic, want the floor's burst 5", got)
	}
	clock.Advance(200 * time.Millisecond)
	if got := allowed(b, 100); got != 1 {
		t.Fatalf("%d retries allowed 200ms later at 5/s, want 1", got)
	}
	clock.Advance(10 * time.Second)
	if got := allowed(b, 100); got != 5 {
		t.Fatalf("%d retries allowed after a long pause, want the burst 5, not more", got)
	}
}

func TestBudgetCeiling(t *testing.T) {
	b, clock := newTestBudget(t, BudgetSettings{MaxPerSecond: 2, Burst: 3}) // no ratio limit
	if got := allowed(b, 100); got != 3 {
		t.Fatalf("%d retries allowed, want the ceiling's burst 3", got)
	}
	clock.Advance(500 * time.Millisecond)
	if got := allowed(b, 100); got != 1 {
		t.Fatalf("%d retries allowed 500ms later at 2/s, want 1", got)
	}

	// A retry the ceiling refuses costs no ratio credit.
	b, clock = newTestBudget(t, BudgetSettings{Ratio: 1, MaxPerSecond: 1})
	for range 3 {
		b.Request()
	}
	got := 0
	for range 10 {
		got += allowed(b, 5)
		clock.Advance(time.Second)
	}
	if got != 3 {
		t.Fatalf("%d retries allowed for 3 requests at ratio 1 under a 1/s ceiling, want 3", got)
	}
}

func TestBudgetRefund(t *testing.T) {
	tests := []struct {
		name string
		s    BudgetSettings
	}{
		{"ratio", BudgetSettings{Ratio: 0.5}},
		{"ratio and floor", BudgetSettings{Ratio: 0.5, MinPerSecond: 2}},
		{"ceiling", BudgetSettings{MaxPerSecond: 1, Burst: 2}},
		{"all", BudgetSettings{Ratio: 0.5, MinPerSecond: 1, MaxPerSecond: 3}},
		{"unlimited", BudgetSettings{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBudget(t, tt.s)
			for range 6 {
				b.Request()
			}
			// The clock does not move: what is allowed now is all there is.
			first := allowed(b, 20)
			b.Refund() // one the caller did not run
			b.Refund()
			if again := allowed(b, 20); first < 20 && again != min(2, first) {
				t.Fatalf("%d retries allowed after 2 refunds of %d, want the 2 back", again, first)
			}
			_, retries, _ := b.Stats()
			if want := uint64(first); first < 20 && retries != want {
				t.Fatalf("Stats counts %d retries, want %d (refunded ones not counted)", retries, want)
			}
		})
	}
	fresh, _ := newTestBudget(t, BudgetSettings{Ratio: 0.1})
	fresh.Refund() // nothing to give back
	if got := allowed(fresh, 5); got != 0 {
		t.Fatalf("a refund with no retry allowed made %d retries", got)
	}
	var nb *Budget
	nb.Refund()
}

func TestBudgetUnlimited(t *testing.T) {
	b, _ := newTestBudget(t, BudgetSettings{})
	if got := allowed(b, 1000); got != 1000 {
		t.Fatalf("a zero budget allowed %d of 1000 retries", got)
	}
	var nb *Budget
	nb.Request()
	if !nb.AllowRetry() {
		t.Fatal("a nil budget refused a retry")
	}
	if r, rt, rf := nb.Stats(); r|rt|rf != 0 {
		t.Fatal("a nil budget has stats")
	}
}

func TestBudgetRequestAllocs(t *testing.T) {
	b, _ := newTestBudget(t, DefaultBudgetSettings())
	if n := testing.AllocsPerRun(1000, b.Request); n != 0 {
		t.Fatalf("Request allocates %v times", n)
	}
}

// FuzzBudget checks the budget's bounds on random sequences of requests,
// retries and clock moves.
func FuzzBudget(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 1, 1, 2, 1, 1}, 0.1, 5.0, 20.0)
	f.Add([]byte{1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 0, 1}, 0.5, 0.0, 3.0)
	f.Add([]byte{0, 1, 0, 1, 0, 1}, 1.0, 2.0, 0.0)
	f.Fuzz(func(t *testing.T, ops []byte, ratio, floor, ceil float64) {
		s := BudgetSettings{Ratio: ratio, MinPerSecond: floor, MaxPerSecond: ceil, MaxCredit: 1e9}
		if s.Validate() != nil || ratio > 100 || floor > 1e6 || ceil > 1e6 {
			t.Skip()
		}
		b, clock := newTestBudget(t, s)
		var elapsed time.Duration
		for _, op := range ops {
			switch op % 3 {
			case 0:
				b.Request()
			case 1:
				b.AllowRetry()
			case 2:
				clock.Advance(100 * time.Millisecond)
				elapsed += 100 * time.Millisecond
			}
		}
		requests, retries, _ := b.Stats()
		secs := elapsed.Seconds()
		if ratio > 0 {
			limit := float64(requests)*ratio + 1e-6
			if floor > 0 {
				limit += float64(burstFor(floor)) + floor*secs
			}
			if float64(retries) > limit {
				t.Fatalf("%d retries for %d requests in %v: over the ratio and floor limit %v", retries, requests, elapsed, limit)
			}
		}
		if ceil > 0 {
			if limit := float64(burstFor(ceil)) + ceil*secs + 1e-6; float64(retries) > limit {
				t.Fatalf("%d retries in %v: over the ceiling %v", retries, elapsed, limit)
			}
		}
	})
}
