package redistest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestPoll(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		trueAfter int // cond returns true from this call on; 0: never
		timeout   time.Duration
		want      bool
		wantCalls int // 0: do not check
	}{
		{"true at once", 1, time.Hour, true, 1},
		{"true on the third call", 3, time.Second, true, 3},
		{"never true", 0, 50 * time.Millisecond, false, 0},
		{"zero timeout, true at once", 1, 0, true, 1},
		{"zero timeout, checked once more", 2, 0, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			start := time.Now()
			got := Poll(tt.timeout, func() bool {
				calls++
				return tt.trueAfter > 0 && calls >= tt.trueAfter
			})
			took := time.Since(start)
			if got != tt.want {
				t.Errorf("Poll = %v after %d calls, want %v", got, calls, tt.want)
			}
			if tt.wantCalls != 0 && calls != tt.wantCalls {
				t.Errorf("cond called %d times, want %d", calls, tt.wantCalls)
			}
			if !got && took < tt.timeout {
				t.Errorf("Poll gave up after %v, before its %v timeout", took, tt.timeout)
			}
		})
	}
}

// TestAwaitRedialers makes a go-redis pool fail its dials to a port where
// nothing listens, so that it starts redialing in the background: the
// redialer is seen while the client is open, and gone soon after Close.
func TestAwaitRedialers(t *testing.T) {
	port, err := freePort() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{
		Addr:          "127.0.0.1:" + strconv.Itoa(port),
		PoolSize:      1,
		DialerRetries: 1,
		MaxRetries:    -1,
	})
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = c.Close()
			AwaitRedialers(3 * time.Second)
		}
	})
	if err := c.Ping(context.Background()).Err(); err == nil {
		t.Fatal("PING to a closed port succeeded")
	}
	// go-redis dials on a goroutine of its own, which may start the
	// redialer a moment after the caller got the dial's error.
	if !Poll(2*time.Second, func() bool { return !AwaitRedialers(0) }) {
		t.Fatal("no redialer while the pool's only dial had failed")
	}
	_ = c.Close()
	closed = true
	start := time.Now()
	if !AwaitRedialers(3 * time.Second) {
		t.Fatal("the redialer outlived its closed client by 3s")
	}
	t.Logf("the redialer ended %v after Close", time.Since(start).Round(time.Millisecond))
}
