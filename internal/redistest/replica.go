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
// requirepass) and waits until its link to the master is up
// (master_link_status:up), so everything written to the master before the
// call is on the replica. Restart keeps it a replica of master.
func StartReplica(t testing.TB, master *Server, conf ...string) *Server {
	t.Helper()
	lines := append([]string(nil), conf...)
	lines = append(lines, "replicaof 127.0.0.1 "+strconv.Itoa(master.Port()))
	if master.password != "" {
		lines = append(lines, fmt.Sprintf("masterauth %q", master.password))
	}
	r := Start(t, lines...)
	waitUntil(t, syncTimeout, "replica "+r.Addr()+" in sync with "+master.Addr(), func() bool {
		return r.linkUp(context.Background())
	})
	return r
}

// linkUp reports whether a replica's link to its master is up.
func (s *Server) linkUp(ctx context.Context) bool {
	v, err := s.do(ctx, "INFO", "replication")
	if err != nil {
		return false
	}
	str, _ := v.(string)
	return parseInfo(str)["master_link_status"] == "up"
}
