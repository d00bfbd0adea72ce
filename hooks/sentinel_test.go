package hooks

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/internal/redistest"
	"github.com/go-retryable/retryable/policy"
)

// TestMasterWatchCheck runs the watch against a real Sentinel: a poke
// starts one check, a second poke within watchInterval starts none, the
// check moves a client that knows no master yet to the master the
// Sentinel names, and the Sentinel connections are closed watchIdle after
// the last check.
func TestMasterWatchCheck(t *testing.T) {
	master := redistest.Start(t)
	sentinel := redistest.StartSentinel(t, master, "mymaster")
	opt := &redis.FailoverOptions{MasterName: "mymaster", SentinelAddrs: []string{sentinel.Addr()},
		MaxRetries: -1, DialerRetries: 1, ContextTimeoutEnabled: true}
	c := redis.NewFailoverClient(opt)
	defer c.Close()
	h := clientHook(c, policy.Default())
	h.watch = newMasterWatch(opt)
	w := h.watch
	if got := h.cur.Load().name(); got != "sentinel" {
		t.Fatalf("before any connection the client's node is %q, want sentinel", got)
	}

	w.poke(h)
	started := w.next.Load()
	w.poke(h) // within watchInterval: no second check
	if w.next.Load() != started {
		t.Fatal("a second poke within watchInterval started another check")
	}
	redistest.WaitFor(t, 5*time.Second, func() bool { return !w.busy.Load() })
	if got := h.cur.Load().name(); got != master.Addr() {
		t.Fatalf("after a check the client's node is %q, want the master the Sentinel names, %s", got, master.Addr())
	}
	w.mu.Lock()
	open := len(w.clients)
	w.mu.Unlock()
	if open != 1 {
		t.Fatalf("%d Sentinel clients open right after a check, want 1", open)
	}
	redistest.WaitFor(t, watchIdle+2*time.Second, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.clients == nil
	})
}
