package redistest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReplica(t *testing.T) {
	t.Parallel()
	m := Start(t)
	m.Do(t, "SET", "before", "1")
	r := StartReplica(t, m, "replica-serve-stale-data yes")
	if got := r.Do(t, "GET", "before"); got != "1" {
		t.Errorf("replica GET before = %v, want 1 (synced at start)", got)
	}
	if info := r.Info(t, "replication"); info["role"] != "slave" || info["master_port"] != m.Info(t, "server")["tcp_port"] {
		t.Errorf("replica INFO replication = %v", info)
	}
	m.Do(t, "SET", "after", "2")
	WaitFor(t, 5*time.Second, func() bool { return r.Do(t, "GET", "after") == "2" })
	if _, err := r.DoErr("SET", "x", "1"); err == nil || !strings.HasPrefix(err.Error(), "READONLY") {
		t.Errorf("SET on a replica: err = %v, want READONLY", err)
	}

	// The replica removed the RDB it synced from (nothing is persisted), so
	// a Restart starts empty instead of loading it.
	if _, err := os.Stat(filepath.Join(r.dir, "dump.rdb")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("replica's dir holds dump.rdb after the sync (stat: %v); want none", err)
	}

	r.Promote(t)
	if role := r.Info(t, "replication")["role"]; role != "master" {
		t.Errorf("role after Promote = %q, want master", role)
	}
	r.Do(t, "SET", "x", "1")

	// Restart replays the config: a replica again, in sync.
	r.Restart(t)
	r.waitSynced(t, m, m.replOffset(t), syncTimeout)
	if got := r.Do(t, "GET", "after"); got != "2" {
		t.Errorf("GET after on the restarted replica = %v, want 2", got)
	}
}

func TestReplicaWithPassword(t *testing.T) {
	t.Parallel()
	m := Start(t, "requirepass pw")
	r := StartReplica(t, m, "requirepass pw")
	m.Do(t, "SET", "k", "v")
	WaitFor(t, 5*time.Second, func() bool { return r.Do(t, "GET", "k") == "v" })
}
