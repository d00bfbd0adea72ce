package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-retryable/retryable/bench/internal/server"
)

// do runs an administrative command, failing t on an error other than
// want (an error reply prefix, "" for none).
func do(t *testing.T, s *server.Server, want string, args ...string) {
	t.Helper()
	_, err := s.Do(args...)
	switch {
	case want == "" && err != nil:
		t.Fatalf("%v: %v", args, err)
	case want != "" && (err == nil || !strings.HasPrefix(err.Error(), "server: "+want)):
		t.Fatalf("%v: %v, want %s", args, err, want)
	}
}

func totalOf(t *testing.T, c *counter) stats {
	t.Helper()
	st, err := c.total()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestCounterAcrossAFailover checks that a replica's replicated commands
// are not counted as received, before a promotion and after a demotion.
func TestCounterAcrossAFailover(t *testing.T) {
	master := server.Start(t, "--repl-diskless-sync-delay", "0")
	replica := server.Start(t, "--repl-diskless-sync-delay", "0", "--replicaof", "127.0.0.1", strconv.Itoa(master.Port()))
	if err := waitSynced(replica); err != nil {
		t.Fatal(err)
	}
	cm, cr := &counter{srv: master}, &counter{srv: replica, replica: true}
	for _, c := range []*counter{cm, cr} {
		if err := c.mark(); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		do(t, master, "", "INCR", "a")
	}
	do(t, replica, "", "GET", "a")
	do(t, replica, "READONLY", "INCR", "a")
	waitValue(t, replica, "a", "3")
	if m, r := totalOf(t, cm)["cmd"], totalOf(t, cr)["cmd"]; m != 3 || r != 2 {
		t.Fatalf("before the failover: master received %d, replica %d; want 3 and 2 (a GET and a rejected INCR)", m, r)
	}

	do(t, replica, "", "REPLICAOF", "NO", "ONE")
	cr.becomeReplica(false)
	do(t, master, "", "REPLICAOF", "127.0.0.1", strconv.Itoa(replica.Port()))
	cm.becomeReplica(true)
	if err := waitSynced(master); err != nil {
		t.Fatal(err)
	}
	do(t, replica, "", "INCR", "a")
	do(t, master, "READONLY", "INCR", "a")
	waitValue(t, master, "a", "4")
	m, r := totalOf(t, cm), totalOf(t, cr)
	if m["cmd"] != 4 || r["cmd"] != 3 {
		t.Fatalf("after the failover: old master received %d, new master %d; want 4 and 3", m["cmd"], r["cmd"])
	}
	if m["err:READONLY"] != 1 || r["err:READONLY"] != 1 {
		t.Fatalf("READONLY replies: old master %d, new master %d; want 1 each", m["err:READONLY"], r["err:READONLY"])
	}
}

// TestCounterAcrossARestart checks that counts survive a restart, and that
// the AOF reload is not counted.
func TestCounterAcrossARestart(t *testing.T) {
	s := server.Start(t, aof...)
	c := &counter{srv: s}
	if err := c.mark(); err != nil {
		t.Fatal(err)
	}
	do(t, s, "", "INCR", "a")
	do(t, s, "", "INCR", "a")
	c.beforeKill()
	s.Kill()
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	do(t, s, "", "GET", "a")
	if got := totalOf(t, c)["cmd"]; got != 3 {
		t.Fatalf("received %d, want 3 (two INCRs before the kill, a GET after)", got)
	}
}

// waitValue waits until key has value on s; it reads with GETRANGE, which
// the counters do not count.
func waitValue(t *testing.T, s *server.Server, key, value string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := s.Do("GETRANGE", key, "0", "-1")
		if err == nil && v == value {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s on %s: %v, %v; want %s", key, s.Addr(), v, err, value)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
