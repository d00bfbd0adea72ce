package redistest

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestStartSentinel(t *testing.T) {
	t.Parallel()
	master := Start(t)
	s := StartSentinel(t, master, "mymaster")
	if got := s.MasterAddr(t); got != master.Addr() {
		t.Errorf("MasterAddr() = %q, want %q", got, master.Addr())
	}
	if s.Addr() == master.Addr() || strings.HasSuffix(s.Addr(), ":6379") {
		t.Errorf("Addr() = %q; want a port of its own, not 6379", s.Addr())
	}
	info := s.srv.Info(t, "server")
	if info["redis_mode"] != "sentinel" {
		t.Errorf("INFO server redis_mode = %q, want sentinel", info["redis_mode"])
	}
	if v, err := s.srv.DoErr("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "other"); err != nil || v != nil {
		t.Errorf("an unknown master name: %#v, %v; want a nil reply", v, err)
	}
}

// TestSentinelFailsOver kills the master of a replica: the sentinel names
// the replica soon after SentinelDownAfter.
func TestSentinelFailsOver(t *testing.T) {
	t.Parallel()
	master := Start(t)
	replica := StartReplica(t, master)
	s := StartSentinel(t, master, "mymaster")
	// The sentinel learns of the replica from the master's INFO.
	WaitFor(t, 15*time.Second, func() bool {
		v, err := s.srv.DoErr("SENTINEL", "REPLICAS", "mymaster")
		list, _ := v.([]any)
		return err == nil && len(list) == 1
	})
	master.Kill()
	killed := time.Now()
	WaitFor(t, 20*time.Second, func() bool { return s.MasterAddr(t) == replica.Addr() })
	took := time.Since(killed)
	t.Logf("the sentinel named the replica %v after the master was killed (down-after %v)", took.Round(time.Millisecond), SentinelDownAfter)
	if took < SentinelDownAfter {
		t.Errorf("the sentinel failed over %v after the kill, before its down-after %v", took, SentinelDownAfter)
	}
	if role := replica.Info(t, "replication")["role"]; role != "master" {
		t.Errorf("the promoted replica's role is %q, want master", role)
	}
}

// TestSentinelAuthPass watches a master with a password: the sentinel
// authenticates, so the master does not look down to it.
func TestSentinelAuthPass(t *testing.T) {
	t.Parallel()
	master := Start(t, "requirepass secret")
	s := StartSentinel(t, master, "locked")
	time.Sleep(2 * SentinelDownAfter)
	flags := sentinelField(t, s, "flags")
	if flags != "master" {
		t.Errorf("SENTINEL MASTER locked flags = %q, want master (an unauthenticated sentinel sees s_down)", flags)
	}
}

func TestStartSentinelBadName(t *testing.T) {
	t.Parallel()
	master := Start(t)
	for _, name := range []string{"", "two words", `"quoted"`} {
		f := runFake(t, func(tb testing.TB) { StartSentinel(tb, master, name) })
		if !strings.Contains(f.fatal, "must be a single word") {
			t.Errorf("StartSentinel(%q): fatal %q, want a refusal of the name", name, f.fatal)
		}
	}
}

// sentinelField returns a field of SENTINEL MASTER for s's master.
func sentinelField(t *testing.T, s *Sentinel, field string) string {
	t.Helper()
	v, err := s.srv.do(context.Background(), "SENTINEL", "MASTER", s.master)
	if err != nil {
		t.Fatalf("SENTINEL MASTER %s: %v", s.master, err)
	}
	kv, _ := v.([]any)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == field {
			str, _ := kv[i+1].(string)
			return str
		}
	}
	t.Fatalf("SENTINEL MASTER %s: no %s in %v", s.master, field, kv)
	return ""
}
