package hooks_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/internal/redistest"
	"github.com/go-retryable/retryable/internal/redistest/policytest"
	"github.com/go-retryable/retryable/policy"
)

// These tests hold the breaker to its promise for Redis: never less
// available than a bare go-redis client. Each runs a bare client and a
// hooked one side by side, one caller each calling every 10 ms, through a
// real fault, and compares how long after the fault's end each is back.

const recoveryPace = 10 * time.Millisecond

// contender is a client under a load of one caller.
type contender struct {
	name string
	load *policytest.Load
}

// ping starts one caller on c, each call under a deadline of d.
func ping(t *testing.T, name string, c redis.UniversalClient, d time.Duration, call func(ctx context.Context, c redis.UniversalClient) error) contender {
	t.Helper()
	return callers(t, 1, name, c, d, call)
}

// callers starts n callers on c, each call under a deadline of d.
func callers(t *testing.T, n int, name string, c redis.UniversalClient, d time.Duration, call func(ctx context.Context, c redis.UniversalClient) error) contender {
	t.Helper()
	return contender{name, policytest.StartLoad(t, n, recoveryPace, func(int) error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		return call(ctx, c)
	})}
}

func pingCall(ctx context.Context, c redis.UniversalClient) error { return c.Ping(ctx).Err() }

// backAfter is how long after healed the first call to succeed (a miss
// included) after it ended; a call in flight since before the fault
// counts, as it should for a client that waits the fault out.
func backAfter(calls []policytest.Call, healed time.Time) (time.Duration, bool) {
	for _, c := range calls {
		if c.Class == retryable.OK && c.End().After(healed) {
			return c.End().Sub(healed), true
		}
	}
	return 0, false
}

// startedAfter returns the calls that started after t.
func startedAfter(calls []policytest.Call, t time.Time) []policytest.Call {
	return policytest.Between(calls, t, time.Now().Add(time.Hour))
}

// dialCounter counts the dials of a client, its breaker's probes included
// (they copy the client's options).
type dialCounter struct{ n atomic.Int64 }

func (d *dialCounter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.n.Add(1)
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

// awaitBack waits until every contender has succeeded after healed, and
// returns their calls.
func awaitBack(t *testing.T, healed time.Time, cs ...contender) map[string][]policytest.Call {
	t.Helper()
	redistest.WaitFor(t, 15*time.Second, func() bool {
		for _, c := range cs {
			if _, ok := backAfter(c.load.Snapshot(), healed); !ok {
				return false
			}
		}
		return true
	})
	time.Sleep(100 * time.Millisecond)
	out := make(map[string][]policytest.Call)
	for _, c := range cs {
		out[c.name] = c.load.Stop()
	}
	return out
}

// TestIntegrationRecoveryAfterRestart kills the server and restarts it
// after 300 ms, 2 s and 10 s. The hooked client must be back within 300
// ms of the bare one after the blip and within a second after the
// outages; while the node is down its calls fail in microseconds and the
// node sees a few probes a second.
func TestIntegrationRecoveryAfterRestart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		outage, slack time.Duration
	}{
		{300 * time.Millisecond, 300 * time.Millisecond},
		{2 * time.Second, time.Second},
		{10 * time.Second, time.Second},
	} {
		t.Run(tc.outage.String(), func(t *testing.T) {
			t.Parallel()
			s := redistest.Start(t)
			var dials dialCounter
			rec := &policytest.Recorder{Dials: dials.n.Load}
			p, err := policy.Default().With(policy.Observe(rec.Observe))
			if err != nil {
				t.Fatal(err)
			}
			hooked := itClient(t, &redis.Options{Addr: s.Addr(), Dialer: dials.dial}, p)
			bare := redis.NewClient(&redis.Options{Addr: s.Addr()})
			t.Cleanup(func() { _ = bare.Close() })
			cs := []contender{ping(t, "bare", bare, time.Second, pingCall), ping(t, "hooked", hooked, time.Second, pingCall)}
			time.Sleep(200 * time.Millisecond)

			killed := time.Now()
			s.Kill()
			var dialsLastSecond int64
			if tc.outage > 2*time.Second {
				time.Sleep(tc.outage - time.Second)
				dialsLastSecond = dials.n.Load()
				time.Sleep(time.Second)
			} else {
				time.Sleep(tc.outage)
			}
			dialsBefore, restarting := dials.n.Load(), time.Now()
			s.Restart(t)
			healed := time.Now()
			calls := awaitBack(t, healed, cs...)

			bareBack, _ := backAfter(calls["bare"], healed)
			hookedBack, _ := backAfter(calls["hooked"], healed)
			t.Logf("outage %v: back after the restart: bare %v, hooked %v (%s)", tc.outage,
				bareBack.Round(time.Millisecond), hookedBack.Round(time.Millisecond), rec.Summary())
			if hookedBack > bareBack+tc.slack {
				t.Errorf("hooked back %v after the restart, bare %v: more than %v later", hookedBack, bareBack, tc.slack)
			}
			opened, ok := rec.FindChange(s.Addr(), breaker.Closed, breaker.Open, killed)
			if !ok {
				if tc.outage >= 2*time.Second {
					t.Errorf("the breaker never opened during a %v outage", tc.outage)
				}
				return
			}
			// While open: refused in microseconds, and few probes.
			refused := policytest.Between(calls["hooked"], opened.At.Add(50*time.Millisecond), restarting)
			if len(refused) > 0 {
				lat := policytest.Latencies(refused)
				t.Logf("while open: %d calls, %s, p50 %v, p99 %v", len(refused), policytest.ClassSummary(policytest.CountClasses(refused)),
					policytest.Quantile(lat, 0.5), policytest.Quantile(lat, 0.99))
				if p50 := policytest.Quantile(lat, 0.5); p50 > time.Millisecond {
					t.Errorf("while the breaker was open, calls took p50 %v; want under a millisecond", p50)
				}
			}
			// Probes come fast at first (25-50 ms after the breaker opens),
			// then every 250-500 ms while the node stays down.
			t.Logf("probes (dials) to the dead node while its breaker was open, %v: %d", restarting.Sub(opened.At).Round(time.Millisecond), dialsBefore-opened.Dials)
			if dialsLastSecond > 0 {
				if n := dialsBefore - dialsLastSecond; n > 5 {
					t.Errorf("%d dials to a dead node in the last second of its outage; want a few at most", n)
				}
			}
		})
	}
}

// TestIntegrationRecoveryFrozen freezes the server (SIGSTOP) for 1.5 s
// under callers with a 300 ms deadline: the breaker opens, and once the
// server thaws the hooked client is back within 300 ms of the bare one.
func TestIntegrationRecoveryFrozen(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	var rec policytest.Recorder
	p, err := policy.Default().With(policy.Observe(rec.Observe))
	if err != nil {
		t.Fatal(err)
	}
	hooked := itClient(t, &redis.Options{Addr: s.Addr(), ReadTimeout: time.Second}, p)
	bare := redis.NewClient(&redis.Options{Addr: s.Addr(), ReadTimeout: time.Second, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = bare.Close() })
	// Four callers each: one alone times out only four times in 1.5 s,
	// short of the breaker's five failed calls.
	cs := []contender{callers(t, 4, "bare", bare, 300*time.Millisecond, pingCall), callers(t, 4, "hooked", hooked, 300*time.Millisecond, pingCall)}
	time.Sleep(200 * time.Millisecond)
	s.Freeze()
	time.Sleep(1500 * time.Millisecond)
	s.Thaw()
	healed := time.Now()
	calls := awaitBack(t, healed, cs...)
	bareBack, _ := backAfter(calls["bare"], healed)
	hookedBack, _ := backAfter(calls["hooked"], healed)
	t.Logf("frozen 1.5 s: back after the thaw: bare %v, hooked %v (%s)", bareBack.Round(time.Millisecond),
		hookedBack.Round(time.Millisecond), rec.Summary())
	if hookedBack > bareBack+300*time.Millisecond {
		t.Errorf("hooked back %v after the thaw, bare %v: more than 300 ms later", hookedBack, bareBack)
	}
	if n := rec.Count(policy.Refused, ""); n == 0 {
		t.Errorf("no call was refused while the server was frozen: the breaker did not open (%s)", rec.Summary())
	}
}

// TestIntegrationRecoveryLatency adds 400 ms to every reply, through a
// proxy, for 1.5 s, under callers with a 200 ms deadline, then removes it:
// the hooked client is back within 500 ms of the same policy without a
// breaker, and of a bare client.
func TestIntegrationRecoveryLatency(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	px := redistest.NewProxy(t, s.Addr())
	var rec policytest.Recorder
	p, err := policy.Default().With(policy.Observe(rec.Observe))
	if err != nil {
		t.Fatal(err)
	}
	noBreaker, err := policy.Default().With(policy.NoBreaker())
	if err != nil {
		t.Fatal(err)
	}
	opt := &redis.Options{Addr: px.Addr(), ReadTimeout: time.Second}
	bare := redis.NewClient(&redis.Options{Addr: px.Addr(), ReadTimeout: time.Second, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = bare.Close() })
	cs := []contender{
		ping(t, "bare", bare, 200*time.Millisecond, pingCall),
		ping(t, "no breaker", itClient(t, opt, noBreaker), 200*time.Millisecond, pingCall),
		ping(t, "hooked", itClient(t, opt, p), 200*time.Millisecond, pingCall),
	}
	time.Sleep(200 * time.Millisecond)
	px.SetLatency(400 * time.Millisecond)
	time.Sleep(1500 * time.Millisecond)
	px.SetLatency(0)
	healed := time.Now()
	calls := awaitBack(t, healed, cs...)
	var line strings.Builder
	back := map[string]time.Duration{}
	for _, c := range cs {
		back[c.name], _ = backAfter(calls[c.name], healed)
		fmt.Fprintf(&line, "%s %v, ", c.name, back[c.name].Round(time.Millisecond))
	}
	t.Logf("400 ms latency for 1.5 s: back after it was removed: %s(%s)", line.String(), rec.Summary())
	for _, base := range []string{"bare", "no breaker"} {
		if back["hooked"] > back[base]+500*time.Millisecond {
			t.Errorf("hooked back %v after the latency was removed, %s %v: more than 500 ms later", back["hooked"], base, back[base])
		}
	}
}

// TestIntegrationRecoverySentinelFailover kills the master under a stream
// of writes; the Sentinel promotes the replica. The hooked failover client
// keys its breaker by the master it reaches; while the dead master's
// breaker refuses calls, the master watch asks the Sentinel every 50 ms
// which master it names and moves the client to the new one. The first
// hooked write comes no later than 200 ms after the bare client's
// (without the watch, which waited for the old breaker's next probe, it
// came 100-350 ms later).
func TestIntegrationRecoverySentinelFailover(t *testing.T) {
	t.Parallel()
	master := redistest.Start(t)
	replica := redistest.StartReplica(t, master)
	sentinel := redistest.StartSentinel(t, master, "mymaster")
	var rec policytest.Recorder
	p, err := policy.Default().With(policy.Observe(rec.Observe))
	if err != nil {
		t.Fatal(err)
	}
	opt := &redis.FailoverOptions{MasterName: "mymaster", SentinelAddrs: []string{sentinel.Addr()},
		DialTimeout: 500 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond}
	hooked, err := hooks.NewFailoverClient(opt, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hooked.Close() })
	bareOpt := *opt
	bare := redis.NewFailoverClient(&bareOpt)
	t.Cleanup(func() { _ = bare.Close() })
	write := func(ctx context.Context, c redis.UniversalClient) error { return c.Set(ctx, "k", "v", 0).Err() }
	cs := []contender{ping(t, "bare", bare, time.Second, write), ping(t, "hooked", hooked, time.Second, write)}
	time.Sleep(300 * time.Millisecond)

	master.Kill()
	killed := time.Now() // after Kill returns: the process is gone
	redistest.WaitFor(t, 30*time.Second, func() bool {
		v, err := replica.DoErr("ROLE")
		role, _ := v.([]any)
		return err == nil && len(role) > 0 && role[0] == "master"
	})
	promoted := time.Now()
	calls := awaitBack(t, promoted, cs...)
	// A write in flight when the master died may still have been answered
	// by it: count the first write that started after the kill.
	bareBack, _ := backAfter(startedAfter(calls["bare"], killed), killed)
	hookedBack, _ := backAfter(startedAfter(calls["hooked"], killed), killed)
	t.Logf("failover: promoted %v after the kill; first write after the kill: bare %v, hooked %v (%s)",
		promoted.Sub(killed).Round(time.Millisecond), bareBack.Round(time.Millisecond), hookedBack.Round(time.Millisecond), rec.Summary())
	if limit := 200 * time.Millisecond; hookedBack > bareBack+limit {
		t.Errorf("hooked wrote %v after the kill, bare %v: more than %v later", hookedBack, bareBack, limit)
	}
	if st := p.Breakers().Get(replica.Addr()).State(); st != breaker.Closed {
		t.Errorf("the promoted master's breaker is %v; want closed", st)
	}
}

// TestIntegrationLogsOutage logs a 3 s outage under 16 callers at Info: a
// person reading it gets a handful of lines (the breaker opening and
// closing, and a summary with counts), not one line per refused call.
func TestIntegrationLogsOutage(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	var mu sync.Mutex
	var buf bytes.Buffer
	h := slog.NewTextHandler(&lockedWriter{mu: &mu, w: &buf}, &slog.HandlerOptions{Level: slog.LevelInfo})
	p, err := policy.Default().With(policy.Logger(slog.New(h)))
	if err != nil {
		t.Fatal(err)
	}
	c := itClient(t, itOptions(s.Addr()), p)
	load := policytest.StartLoad(t, 16, recoveryPace, func(int) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return c.Get(ctx, "k").Err()
	})
	time.Sleep(200 * time.Millisecond)
	s.Kill()
	time.Sleep(3 * time.Second)
	s.Restart(t)
	healed := time.Now()
	calls := awaitBack(t, healed, contender{"hooked", load})["hooked"]
	failed := len(policytest.Failed(calls))
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	t.Logf("a 3 s outage, %d calls, %d failed: %d log lines at Info and above:\n%s", len(calls), failed, len(lines), out)
	if len(lines) > 8 {
		t.Errorf("%d log lines for one outage; want a handful", len(lines))
	}
	for _, want := range []string{"retryable: breaker open", "retryable: breaker closed", "retryable: summary of the outage"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	if failed < 100 {
		t.Errorf("only %d calls failed: the outage was not one", failed)
	}
}

// lockedWriter serialises writes to w: slog handlers write from every
// caller's goroutine.
type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
