package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-retryable/retryable/bench/internal/server"
)

// capacityCallers is the number of goroutines of the throughput rounds.
const capacityCallers = 64

// capacity is one contender's closed-loop GET throughput.
type capacity struct {
	Contender string  `json:"contender"`
	Ops       int64   `json:"ops"`
	Errors    int64   `json:"errors"`
	Seconds   float64 `json:"seconds"`
	PerSec    float64 `json:"per_sec"`
	Ratio     float64 `json:"ratio"` // PerSec over the first contender's
}

// measureCapacity runs capacityCallers goroutines doing GET as fast as
// they can against one healthy server, for every contender in turn, in
// short rounds whose order is reversed every other time, so that a drift
// of the machine's speed weighs on every contender alike. It runs in this
// process, so the contenders share its CPU only one at a time.
func measureCapacity(ctx context.Context, cfg *config) ([]capacity, error) {
	dir, err := os.MkdirTemp("", "retryable-bench-capacity-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	srv, err := server.Launch(dir)
	if err != nil {
		return nil, err
	}
	defer srv.Kill()
	conns := make([]*conn, len(cfg.contenders))
	for i, c := range cfg.contenders {
		cn, err := c.build(target{Addrs: []string{srv.Addr()}})
		if err != nil {
			return nil, fmt.Errorf("%s: %v", c.name, err)
		}
		defer cn.rdb.Close()
		conns[i] = cn
		if err := cn.rdb.Set(ctx, getKey(0), "value", 0).Err(); err != nil {
			return nil, fmt.Errorf("%s: %v", c.name, err)
		}
		driveConn(ctx, cn, 50*time.Millisecond) // fill the pool
	}
	per := 3 * cfg.d
	if cfg.quick {
		per = cfg.d / 2
	}
	round := min(50*time.Millisecond, per)
	rounds := max(1, int(per/round))
	out := make([]capacity, len(conns))
	order := make([]int, len(conns))
	for i := range order {
		order[i] = i
	}
	for r := range rounds {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, i := range order {
			ops, errs, el := driveConn(ctx, conns[i], round)
			out[i].Ops += ops
			out[i].Errors += errs
			out[i].Seconds += el.Seconds()
		}
		if r%2 == 0 {
			slices.Reverse(order)
		}
	}
	for i, c := range cfg.contenders {
		out[i].Contender = c.name
		out[i].PerSec = float64(out[i].Ops) / out[i].Seconds
		out[i].Ratio = out[i].PerSec / (float64(out[0].Ops) / out[0].Seconds)
	}
	return out, nil
}

// driveConn runs GET from capacityCallers goroutines for about d and returns
// the successful calls, the failed ones and the time it took.
func driveConn(ctx context.Context, cn *conn, d time.Duration) (ops, errs int64, took time.Duration) {
	var (
		stop      atomic.Bool
		okN, errN atomic.Int64
		wg        sync.WaitGroup
	)
	start := time.Now()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	key := getKey(0)
	get := func(ctx context.Context) error { return cn.rdb.Get(ctx, key).Err() }
	for range capacityCallers {
		wg.Go(func() {
			var n, e int64
			for !stop.Load() {
				if cn.do(ctx, get) != nil {
					e++
				} else {
					n++
				}
			}
			okN.Add(n)
			errN.Add(e)
		})
	}
	wg.Wait()
	return okN.Load(), errN.Load(), time.Since(start)
}
