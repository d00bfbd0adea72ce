package redistest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSlot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		key  string
		want int
	}{
		{"123456789", 0x31C3}, // the CRC-16/XMODEM check value
		{"", 0},
		{"foo", 12182},
		{"bar", 5061},
		{"{user1000}.following", Slot("user1000")},
		{"foo{bar}{zap}", Slot("bar")},
		{"foo{{bar}}zap", Slot("{bar")},
		{"foo{}{bar}", int(crc16("foo{}{bar}")) % clusterSlots},
		{"{", int(crc16("{")) % clusterSlots},
	} {
		t.Run(tc.key, func(t *testing.T) {
			if got := Slot(tc.key); got != tc.want {
				t.Errorf("Slot(%q) = %d, want %d", tc.key, got, tc.want)
			}
		})
	}
}

func FuzzSlot(f *testing.F) {
	for _, s := range []string{"", "foo", "{a}b", "x{}y", "{{}}", "a{b}c{d}"} {
		f.Add(s, "tag")
	}
	f.Fuzz(func(t *testing.T, key, tag string) {
		s := Slot(key)
		if s < 0 || s >= clusterSlots {
			t.Fatalf("Slot(%q) = %d, out of range", key, s)
		}
		if tag == "" || strings.ContainsRune(tag, '}') {
			return
		}
		// Keys sharing a hash tag share a slot, whatever follows the tag.
		if a, b := Slot("{"+tag+"}"+key), Slot(tag); a != b {
			t.Fatalf("Slot({%s}%s) = %d, Slot(%s) = %d", tag, key, a, tag, b)
		}
	})
}

func TestClusterWithoutReplicas(t *testing.T) {
	t.Parallel()
	c := StartCluster(t, 3, 0)
	if n := len(c.Nodes()); n != 3 {
		t.Fatalf("%d nodes, want 3", n)
	}
	if ms := c.Masters(); !slices.Equal(ms, c.Nodes()) {
		t.Errorf("Masters() = %v, want the three nodes in start order", c.Addrs())
	}
	// The slot ranges cover every slot exactly once.
	next := 0
	for _, r := range c.view() {
		if r.lo != next || r.hi < r.lo || len(r.replicas) != 0 {
			t.Fatalf("slot range %d-%d (%d replicas) after slot %d", r.lo, r.hi, len(r.replicas), next-1)
		}
		next = r.hi + 1
	}
	if next != clusterSlots {
		t.Fatalf("slots covered up to %d, want %d", next, clusterSlots)
	}
	ctx := context.Background()
	cc := c.Client(t)
	for i := range 20 {
		key := fmt.Sprintf("key:%d", i)
		if err := cc.Set(ctx, key, i, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", key, err)
		}
		if got, err := c.MasterFor(key).DoErr("GET", key); err != nil || got != fmt.Sprint(i) {
			t.Errorf("GET %s on MasterFor = %v, %v, want %d", key, got, err, i)
		}
	}
}

func TestClusterFailover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	began := time.Now()
	c := StartCluster(t, 3, 1)
	t.Logf("StartCluster(3, 1) took %v", time.Since(began))
	nodes := c.Nodes()
	if len(nodes) != 6 {
		t.Fatalf("%d nodes, want 6", len(nodes))
	}
	masters := c.Masters()
	if !slices.Equal(masters, nodes[:3]) {
		t.Fatalf("Masters() is not the first three nodes")
	}
	for i, m := range masters {
		reps := c.ReplicasOf(m)
		if len(reps) != 1 || reps[0] != nodes[3+i] {
			t.Errorf("ReplicasOf(master %d) = %d servers, want node %d", i, len(reps), 3+i)
		}
		if role := nodes[3+i].Info(t, "replication")["role"]; role != "slave" {
			t.Errorf("node %d role = %q, want slave", 3+i, role)
		}
	}

	t.Run("Slot matches CLUSTER KEYSLOT", func(t *testing.T) {
		for _, key := range []string{"", "foo", "{user1000}.following", "foo{}{bar}", "foo{{bar}}zap", "a{b}c", "日本"} {
			got, ok := nodes[0].Do(t, "CLUSTER", "KEYSLOT", key).(int64)
			if !ok || int(got) != Slot(key) {
				t.Errorf("Slot(%q) = %d, CLUSTER KEYSLOT = %d", key, Slot(key), got)
			}
		}
	})

	cc := c.Client(t)
	t.Run("MasterFor holds the key", func(t *testing.T) {
		for i := range 20 {
			key := fmt.Sprintf("k%d", i)
			if err := cc.Set(ctx, key, i, 0).Err(); err != nil {
				t.Fatalf("SET %s: %v", key, err)
			}
			owner := c.MasterFor(key)
			if got := owner.Do(t, "GET", key); got != fmt.Sprint(i) {
				t.Errorf("GET %s on its master = %v, want %d", key, got, i)
			}
			for _, m := range masters {
				if m == owner {
					continue
				}
				if _, err := m.DoErr("GET", key); err == nil || !strings.HasPrefix(err.Error(), "MOVED") {
					t.Errorf("GET %s on another master: err = %v, want MOVED", key, err)
				}
			}
		}
	})

	const key = "failover-key"
	if err := cc.Set(ctx, key, "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	old := c.MasterFor(key)
	rep := c.ReplicasOf(old)[0]
	if acks := old.Do(t, "WAIT", 1, 5000); acks != int64(1) {
		t.Fatalf("WAIT = %v, want 1 replica ack", acks)
	}

	start := time.Now()
	old.Kill()
	c.WaitHealthy(t)
	t.Logf("failover took %v", time.Since(start))
	if got := c.MasterFor(key); got != rep {
		t.Fatalf("after failover MasterFor(%q) = %s, want its replica %s", key, got.Addr(), rep.Addr())
	}
	if ms := c.Masters(); len(ms) != 3 || slices.Contains(ms, old) {
		t.Errorf("Masters() after failover has %d servers, old master included: %v", len(ms), slices.Contains(ms, old))
	}
	// go-redis v9.23 reloads the slot map only on MOVED/ASK/READONLY or
	// every ClusterStateReloadInterval (60 s): a refused dial to the dead
	// master does not trigger it, so reload by hand.
	cc.ReloadState(ctx)
	WaitFor(t, 10*time.Second, func() bool {
		v, err := cc.Get(ctx, key).Result()
		return err == nil && v == "v"
	})

	began = time.Now()
	old.Restart(t)
	c.WaitHealthy(t)
	WaitFor(t, 15*time.Second, func() bool {
		return slices.Contains(c.ReplicasOf(rep), old)
	})
	t.Logf("the old master rejoined as a replica in %v", time.Since(began))
	if role := old.Info(t, "replication")["role"]; role != "slave" {
		t.Errorf("restarted old master has role %q, want slave", role)
	}
}

func TestStartClusterBadArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ masters, replicas int }{{0, 0}, {3, -1}, {101, 0}, {3, 11}} {
		t.Run(fmt.Sprint(tc.masters, "x", tc.replicas), func(t *testing.T) {
			f := runFake(t, func(tb testing.TB) { StartCluster(tb, tc.masters, tc.replicas) })
			if !strings.Contains(f.fatal, "StartCluster") {
				t.Errorf("fatal = %q, want a StartCluster argument error", f.fatal)
			}
		})
	}
}
