package breaker

import (
	"context"
	"strconv"
	"testing"
	"time"
)

func benchBreaker(b *testing.B, s Settings) *Breaker {
	br, err := New("n1", s)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(br.Release)
	return br
}

// BenchmarkAllowDoneClosed is the success path of every call: a few ns
// and no allocation in the default (consecutive) mode; the ratio mode
// pays gobreaker's lock and clock on every call.
func BenchmarkAllowDoneClosed(b *testing.B) {
	for _, bc := range []struct {
		name string
		s    Settings
	}{
		{"consecutive", Settings{}},
		{"ratio", Settings{FailureRatio: 0.5}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			br := benchBreaker(b, bc.s)
			b.ReportAllocs()
			for b.Loop() {
				t, _ := br.Allow()
				br.Done(t, Success)
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			br := benchBreaker(b, bc.s)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					t, _ := br.Allow()
					br.Done(t, Success)
				}
			})
		})
	}
}

// BenchmarkAllowDoneFailure is the failure path while closed: gobreaker
// counts each failure (the breaker never trips here).
func BenchmarkAllowDoneFailure(b *testing.B) {
	br := benchBreaker(b, Settings{ConsecutiveFailures: 1 << 30})
	b.ReportAllocs()
	for b.Loop() {
		t, _ := br.Allow()
		br.Done(t, Failure)
	}
}

// BenchmarkAllowOpen is a refusal: one *OpenError, no lock.
func BenchmarkAllowOpen(b *testing.B) {
	for _, bc := range []struct {
		name string
		open func(*Breaker)
	}{
		{"timed", func(br *Breaker) {
			t, _ := br.Allow()
			br.Done(t, Failure)
		}},
		{"engine", func(br *Breaker) {
			b.Cleanup(br.AddProbe(func(context.Context) Outcome { return Success }))
			t, _ := br.Allow()
			br.Done(t, Failure)
		}},
		{"forced", (*Breaker).ForceOpen},
	} {
		br := benchBreaker(b, Settings{ConsecutiveFailures: 1, OpenTimeout: time.Hour})
		bc.open(br)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := br.Allow(); err == nil {
					b.Fatal("allowed")
				}
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := br.Allow(); err == nil {
						b.Error("allowed")
						return
					}
				}
			})
		})
	}
}

func BenchmarkRetryIn(b *testing.B) {
	br := benchBreaker(b, Settings{})
	b.ReportAllocs()
	for b.Loop() {
		if br.RetryIn() != 0 {
			b.Fatal("not closed")
		}
	}
}

func BenchmarkBudgetRequest(b *testing.B) {
	bu, err := NewBudget(DefaultBudgetSettings())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bu.Request()
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				bu.Request()
			}
		})
	})
}

func BenchmarkBudgetAllowRetry(b *testing.B) {
	bu, err := NewBudget(BudgetSettings{Ratio: 0.1, MinPerSecond: 10, MaxPerSecond: 1000})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		bu.Request()
		bu.AllowRetry()
	}
}

func BenchmarkGroupGet(b *testing.B) {
	g, err := NewGroup(Settings{})
	if err != nil {
		b.Fatal(err)
	}
	nodes := make([]string, 64)
	for i := range nodes {
		nodes[i] = "10.0.0." + strconv.Itoa(i) + ":6379"
		g.Get(nodes[i])
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			g.Get(nodes[i&63])
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				g.Get(nodes[i&63])
				i++
			}
		})
	})
}
