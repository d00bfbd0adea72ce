package backoff_test

import (
	"testing"
	"time"

	"github.com/go-retryable/retryable/backoff"
)

var sink time.Duration

type benchCase struct {
	name string
	s    backoff.Strategy
}

// benchCases lists every strategy with realistic settings and the default,
// goroutine-safe random source, so each can be shared by goroutines.
func benchCases() []benchCase {
	exp := backoff.NewExponential(10*time.Millisecond, time.Second, 2)
	return []benchCase{
		{"Constant", backoff.Constant(100 * time.Millisecond)},
		{"Linear", backoff.NewLinear(10*time.Millisecond, 50*time.Millisecond, time.Second)},
		{"Exponential", exp},
		{"Exponential/1.5", backoff.NewExponential(10*time.Millisecond, time.Second, 1.5)},
		{"FullJitter", backoff.FullJitter(exp)},
		{"EqualJitter", backoff.EqualJitter(exp)},
		{"Decorrelated", backoff.NewDecorrelated(10*time.Millisecond, time.Second)},
		{"Func", backoff.Func(func(a int, _ time.Duration) time.Duration { return time.Duration(a) * time.Millisecond })},
	}
}

// BenchmarkDelay runs a chain of ten retries over and over, through the
// Strategy interface as a policy calls it.
func BenchmarkDelay(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var prev time.Duration
			attempt := 0
			for b.Loop() {
				attempt = attempt%10 + 1
				prev = c.s.Delay(attempt, prev)
			}
			sink = prev
		})
	}
}

// BenchmarkDelayParallel shares one strategy value between goroutines.
func BenchmarkDelayParallel(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var prev time.Duration
				attempt := 0
				for pb.Next() {
					attempt = attempt%10 + 1
					prev = c.s.Delay(attempt, prev)
				}
				if prev < 0 {
					b.Error("negative delay")
				}
			})
		})
	}
}
