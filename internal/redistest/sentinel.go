package redistest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// SentinelDownAfter is the down-after-milliseconds of a sentinel started by
// [StartSentinel]: how long its master may leave it without a reply before
// the sentinel deems the master down and, with its quorum of 1, fails over
// to a replica it knows. A shorter pause (CLIENT PAUSE, [Server.Freeze])
// leaves the master in place.
const SentinelDownAfter = time.Second

// sentinelFailoverTimeout is the failover-timeout of a sentinel started by
// StartSentinel (Redis's default is three minutes): a failover that
// stalls is retried after twice this long.
const sentinelFailoverTimeout = 10 * time.Second

// Sentinel is one redis-server process in sentinel mode, started by
// [StartSentinel], that monitors one master. The process is killed by the
// cleanup of the test that started it.
//
// A Sentinel is safe for concurrent use; methods that take a testing.TB
// must be called on that test's goroutine.
type Sentinel struct {
	srv    *Server
	master string // the name the master is monitored under
}

// StartSentinel runs "redis-server sentinel.conf --sentinel" on a free
// 127.0.0.1 port (never 6379), monitoring master under masterName with a
// quorum of 1, a down-after of [SentinelDownAfter], a failover timeout of
// 10 s, and master's requirepass, if any, as its auth-pass. It waits until
// the sentinel answers and names master's address for masterName. The
// replicas of master are found by the sentinel itself, as in production.
//
// The sentinel is killed at t's cleanup, even when the test failed. It
// fails the test, with the tail of the sentinel's log, when redis-server
// is missing or the sentinel does not come up, and when masterName is not
// a single word.
func StartSentinel(t testing.TB, master *Server, masterName string) *Sentinel {
	t.Helper()
	if masterName == "" || strings.ContainsAny(masterName, " \t\r\n\"'") {
		t.Fatalf("redistest: StartSentinel: master name %q must be a single word", masterName)
	}
	conf := []string{
		fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 1", masterName, master.Port()),
		fmt.Sprintf("sentinel down-after-milliseconds %s %d", masterName, SentinelDownAfter.Milliseconds()),
		fmt.Sprintf("sentinel failover-timeout %s %d", masterName, sentinelFailoverTimeout.Milliseconds()),
	}
	if master.password != "" {
		conf = append(conf, fmt.Sprintf("sentinel auth-pass %s %q", masterName, master.password))
	}
	s := &Sentinel{srv: start(t, freePort, conf, "--sentinel"), master: masterName}
	if !Poll(readyTimeout, func() bool {
		addr, err := s.masterAddr(context.Background())
		return err == nil && addr == master.Addr()
	}) {
		addr, err := s.masterAddr(context.Background())
		t.Fatalf("redistest: the sentinel on %s names %q (%v) for %s, want %s\n--- tail of %s ---\n%s",
			s.Addr(), addr, err, masterName, master.Addr(), s.srv.LogPath(), s.srv.logTail(40))
	}
	return s
}

// Addr returns the sentinel's "127.0.0.1:port" address, for
// redis.FailoverOptions.SentinelAddrs.
func (s *Sentinel) Addr() string { return s.srv.Addr() }

// MasterAddr returns the "ip:port" address the sentinel gives for its
// master (SENTINEL GET-MASTER-ADDR-BY-NAME): the master's own address until
// a failover, then the promoted replica's. It fails the test when the
// sentinel does not answer.
func (s *Sentinel) MasterAddr(t testing.TB) string {
	t.Helper()
	addr, err := s.masterAddr(context.Background())
	if err != nil {
		t.Fatalf("redistest: sentinel %s: %v", s.Addr(), err)
	}
	return addr
}

// masterAddr asks the sentinel for its master's address; "" when it does
// not know the name.
func (s *Sentinel) masterAddr(ctx context.Context) (string, error) {
	v, err := s.srv.do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.master)
	if err != nil || v == nil {
		return "", err
	}
	if a, ok := v.([]any); ok && len(a) == 2 {
		ip, _ := a[0].(string)
		port, _ := a[1].(string)
		if ip != "" && port != "" {
			return net.JoinHostPort(ip, port), nil
		}
	}
	return "", fmt.Errorf("SENTINEL GET-MASTER-ADDR-BY-NAME %s: unexpected reply %#v", s.master, v)
}
