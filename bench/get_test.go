package main

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/bench/internal/server"
	"github.com/go-retryable/retryable/policy"
)

// BenchmarkGET64 measures GET from 64 goroutines against a real
// redis-server on loopback: a plain client against the same client built by
// hooks.NewClient with policy.Default(). The two differ only by the hook.
func BenchmarkGET64(b *testing.B) {
	srv := server.Start(b)
	clients := []struct {
		name string
		rdb  *redis.Client
	}{
		{"bare", newBare(b, bareOptions(srv.Addr()))},
		{"hooked", newHooked(b, bareOptions(srv.Addr()), policy.Default())},
	}
	seed(b, clients[0].rdb)
	for _, c := range clients {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(parallelism(callers))
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					if err := c.rdb.Get(ctx, key).Err(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// drive runs GET from callers goroutines until d has passed and returns
// the number of calls that succeeded and the first error, if any.
func drive(rdb *redis.Client, d time.Duration) (ops int64, err error) {
	var (
		stop  atomic.Bool
		total atomic.Int64
		first atomic.Pointer[error]
		wg    sync.WaitGroup
	)
	ctx := context.Background()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	for range callers {
		wg.Go(func() {
			var n int64
			for !stop.Load() {
				if err := rdb.Get(ctx, key).Err(); err != nil {
					first.CompareAndSwap(nil, &err)
					break
				}
				n++
			}
			total.Add(n)
		})
	}
	wg.Wait()
	if e := first.Load(); e != nil {
		err = *e
	}
	return total.Load(), err
}

// ratioRounds is the number of rounds of one measurement, in ABBA order
// (bare, hooked, hooked, bare, ...) so that a drift of the machine's speed
// weighs on both clients alike; short rounds (50 ms) make bursts of other
// processes fall on both.
const ratioRounds = 120

// hookedRound reports whether round i of a measurement uses the hooked
// client.
func hookedRound(i int) bool { return i%4 == 1 || i%4 == 2 }

// TestThroughputRatio measures the throughput of 64 goroutines doing GET
// with and without the default policy in one run, in alternating rounds,
// and checks that the hook costs at most 3% (the target is 1%; the margin
// absorbs the noise of a shared machine). Under -race only the ratio is
// logged: the instrumentation distorts it.
//
// On a busy machine one 6 s measurement varies by a few percent, so a
// ratio below the bar is measured again, up to three times in all, and the
// verdict is on the totals of every measurement made: more data, not a
// second chance. Checked by hand: an extra test hook that spins 1 us per
// call measured 0.92 to 0.94 over three measurements and failed.
func TestThroughputRatio(t *testing.T) {
	const (
		round = 50 * time.Millisecond
		want  = 0.97
		tries = 3
	)
	srv := server.Start(t)
	bare := newBare(t, bareOptions(srv.Addr()))
	hooked := newHooked(t, bareOptions(srv.Addr()), policy.Default())
	seed(t, bare)
	// Fill both pools before measuring.
	for _, rdb := range []*redis.Client{bare, hooked} {
		if _, err := drive(rdb, 200*time.Millisecond); err != nil {
			t.Fatalf("warm-up: %v", err)
		}
	}

	var totalBare, totalHooked int64
	for try := 1; ; try++ {
		var opsBare, opsHooked int64
		for i := range ratioRounds {
			h := hookedRound(i)
			rdb := bare
			if h {
				rdb = hooked
			}
			n, err := drive(rdb, round)
			if err != nil {
				t.Fatalf("GET (hooked %v): %v", h, err)
			}
			if n == 0 {
				t.Fatalf("GET (hooked %v): no call completed in %v", h, round)
			}
			if h {
				opsHooked += n
			} else {
				opsBare += n
			}
		}
		totalBare += opsBare
		totalHooked += opsHooked
		secs := round.Seconds() * ratioRounds / 2
		t.Logf("measurement %d: %d goroutines, %d rounds of %v: bare %d ops (%.0f/s), hooked %d ops (%.0f/s), hooked/bare = %.4f",
			try, callers, ratioRounds, round, opsBare, float64(opsBare)/secs, opsHooked, float64(opsHooked)/secs,
			float64(opsHooked)/float64(opsBare))
		ratio := float64(totalHooked) / float64(totalBare)
		switch {
		case raceEnabled:
			t.Logf("race detector on: the ratio %.4f is not checked (instrumentation distorts it)", ratio)
			return
		case ratio >= want:
			if try > 1 {
				t.Logf("over %d measurements: hooked/bare = %.4f", try, ratio)
			}
			return
		case try == tries:
			t.Fatalf("hooked/bare throughput over %d measurements = %.4f, want >= %.2f (target 0.99)", try, ratio, want)
		}
		t.Logf("hooked/bare = %.4f so far, below %.2f: measuring again", ratio, want)
	}
}
