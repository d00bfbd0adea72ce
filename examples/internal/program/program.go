// Package program holds what the example programs share: a main that runs
// under a deadline, a Redis server wherever the example runs, and a local
// Redis Cluster.
package program

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/redis/go-redis/v9"
)

// Main runs run with os.Stdout under a 30 s deadline, canceled by an
// interrupt (Ctrl-C) so that deferred cleanups, such as stopping a
// redis-server the example started, still run. It exits with status 1,
// naming the program, if run fails. go-redis would log every failed dial of
// the outages the examples stage, so its logger is silenced first.
func Main(name string, run func(ctx context.Context, w io.Writer) error) {
	redis.SetLogger(Quiet{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := run(ctx, os.Stdout)
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// Quiet is a go-redis logger that drops everything. It is safe for
// concurrent use.
type Quiet struct{}

// Printf drops the message.
func (Quiet) Printf(context.Context, string, ...any) {}

// Until polls cond every 5 ms until it holds. It returns an error naming
// what it waited for when limit passes first, or ctx is done.
func Until(ctx context.Context, limit time.Duration, what string, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not within %v: %w", what, limit, ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}
