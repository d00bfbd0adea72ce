package redistest

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"
)

// syncTimeout bounds how long a replica may take to sync with its master.
const syncTimeout = 15 * time.Second

// StartReplica starts a server like [Start] that replicates master
// ("replicaof" is added to conf, and "masterauth" if the master has a
// requirepass) and waits until it is in sync: its link to the master is up
// (master_link_status:up) and it has applied the master's replication
// stream up to the master's offset at the call, so everything written to
// the master before the call is on the replica. Restart keeps it a replica
// of master.
func StartReplica(t testing.TB, master *Server, conf ...string) *Server {
	t.Helper()
	lines := append([]string(nil), conf...)
	lines = append(lines, "replicaof 127.0.0.1 "+strconv.Itoa(master.Port()))
	if master.password != "" {
		lines = append(lines, fmt.Sprintf("masterauth %q", master.password))
	}
	// The offset is read before the replica exists: everything written
	// before the call is at or below it.
	offset := master.replOffset(t)
	r := Start(t, lines...)
	r.waitSynced(t, master, offset, syncTimeout)
	return r
}

// replOffset returns the master's replication offset (master_repl_offset).
func (s *Server) replOffset(t testing.TB) int64 {
	t.Helper()
	v := s.Info(t, "replication")["master_repl_offset"]
	off, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("redistest: %s INFO replication: master_repl_offset %q: %v", s.Addr(), v, err)
	}
	return off
}

// waitSynced waits until replica s's link to master is up and s has
// applied master's stream up to offset, and fails the test if that does
// not happen within timeout. A link that is up is not enough: after a
// partial resynchronization the link is up before the replica has applied
// the backlog the master sends it.
func (s *Server) waitSynced(t testing.TB, master *Server, offset int64, timeout time.Duration) {
	t.Helper()
	what := fmt.Sprintf("replica %s in sync with %s (offset %d)", s.Addr(), master.Addr(), offset)
	waitUntil(t, timeout, what, func() bool { return s.syncedTo(context.Background(), offset) })
}

// syncedTo reports whether a replica's link to its master is up and it has
// applied its master's stream up to offset (slave_repl_offset).
func (s *Server) syncedTo(ctx context.Context, offset int64) bool {
	info, ok := s.replicationInfo(ctx)
	if !ok || info["master_link_status"] != "up" {
		return false
	}
	off, err := strconv.ParseInt(info["slave_repl_offset"], 10, 64)
	return err == nil && off >= offset
}

// replicationInfo returns the fields of INFO replication; ok is false when
// the server did not answer.
func (s *Server) replicationInfo(ctx context.Context) (info map[string]string, ok bool) {
	v, err := s.do(ctx, "INFO", "replication")
	if err != nil {
		return nil, false
	}
	str, _ := v.(string)
	return parseInfo(str), true
}
