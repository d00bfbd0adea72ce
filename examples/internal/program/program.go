// Package program holds what the example programs share: a main that runs
// under a deadline with go-redis's own logging silenced.
package program

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
)

// Main runs run with os.Stdout under a 20 s deadline and exits with status 1,
// naming the program, if it fails. go-redis would log every failed dial of
// the outages the examples stage, so its logger is silenced first.
func Main(name string, run func(ctx context.Context, w io.Writer) error) {
	redis.SetLogger(Quiet{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	err := run(ctx, os.Stdout)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// Quiet is a go-redis logger that drops everything.
type Quiet struct{}

// Printf drops the message.
func (Quiet) Printf(context.Context, string, ...any) {}
