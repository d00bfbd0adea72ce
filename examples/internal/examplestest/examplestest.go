// Package examplestest runs the example programs in their tests, against
// Redis servers the tests start themselves.
package examplestest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/go-retryable/retryable/examples/internal/program"
)

// Run runs an example's run function under a 30 s deadline, fails the test
// if it returns an error, logs its output and returns it.
func Run(t testing.TB, run func(ctx context.Context, w io.Writer) error) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var buf bytes.Buffer
	err := run(ctx, &buf)
	t.Logf("output:\n%s", buf.String())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return buf.String()
}

// NoRedis makes the test's environment one without Redis: REDIS_ADDR and
// REDIS_CLUSTER_ADDRS empty and a PATH that holds no redis-server, as on a
// machine with only Go installed. It uses t.Setenv, so the test must not be
// parallel.
func NoRedis(t testing.TB) {
	t.Helper()
	t.Setenv("REDIS_ADDR", "")
	t.Setenv("REDIS_CLUSTER_ADDRS", "")
	t.Setenv("PATH", t.TempDir())
	if _, err := exec.LookPath("redis-server"); err == nil {
		t.Fatal("redis-server still found on an empty PATH")
	}
}

// RedisOnPath checks that PATH has a redis-server, as the examples' tests
// expect (scripts/test.sh installs one), and empties REDIS_ADDR and
// REDIS_CLUSTER_ADDRS so that the example starts its own. It fails the
// test rather than skip it: a skipped path would go untested unnoticed.
func RedisOnPath(t testing.TB) string {
	t.Helper()
	t.Setenv("REDIS_ADDR", "")
	t.Setenv("REDIS_CLUSTER_ADDRS", "")
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("no redis-server on PATH: install Redis 7 (Debian: apt-get install redis-server)")
	}
	return bin
}

// StartServer starts a throwaway redis-server for the test on a free port,
// stopped at the test's cleanup, and returns it.
func StartServer(t testing.TB) *program.Proc {
	t.Helper()
	bin := RedisOnPath(t)
	p, err := program.StartProcess(context.Background(), bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// InOrder fails the test unless every string of want appears in out, each
// after the one before it.
func InOrder(t testing.TB, out string, want ...string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("output lacks %q after the lines before it", w)
			return
		}
		rest = rest[i+len(w):]
	}
}

// Main is the TestMain of the examples' packages: it silences go-redis's
// logger, as the programs do, runs the tests and checks with goleak that
// no goroutine outlives them.
//
// goleak is given a few seconds for it. After a failed dial go-redis
// starts a background redial (pool.tryDial) that sleeps a second before it
// notices that its pool was closed, and an open breaker PINGs its node on a
// pool of its own: the last failed PING of an outage may leave one behind
// for up to a second after the breaker closed. A breaker still probing a
// dead node after the tests would keep starting new ones, and still fail.
func Main(m *testing.M) {
	redis.SetLogger(program.Quiet{})
	code := m.Run()
	if code == 0 {
		if err := leaks(3 * time.Second); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: Errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// leaks returns goleak's report of the goroutines that are still running
// after patience, or nil as soon as there are none.
func leaks(patience time.Duration) error {
	deadline := time.Now().Add(patience)
	for {
		err := goleak.Find()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
