package hooks_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/internal/redistest"
	"github.com/go-retryable/retryable/internal/redistest/policytest"
	"github.com/go-retryable/retryable/policy"
)

// Real-Redis tests of circuit breaking through the hooks: a dead node,
// and error replies that must not count. Figures are logged with t.Logf;
// run with -v to see them.

// dialCountHook is a test hook that counts the dials of the client it is
// added to, the pool's background dials included.
type dialCountHook struct{ n atomic.Int64 }

func (d *dialCountHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d.n.Add(1)
		return next(ctx, network, addr)
	}
}

func (d *dialCountHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (d *dialCountHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestIntegrationOutageBreakerOpens puts 64 looping goroutines in front of a
// node that dies for two seconds, once behind a proxy (the proxy accepts
// and closes: EOF) and once directly (connection refused). The breaker must
// open after its threshold, turn the calls away in microseconds with
// CircuitOpen, let only its probes reach the dead node, and close again on
// its own once the node is back, with every transition reported once.
func TestIntegrationOutageBreakerOpens(t *testing.T) {
	for _, tc := range []struct {
		name     string
		viaProxy bool
	}{
		{"proxy-eof", true},       // the proxy accepts, fails to reach the node, closes: EOF
		{"direct-refused", false}, // nothing listens: connection refused
	} {
		t.Run(tc.name, func(t *testing.T) { testOutage(t, tc.name, tc.viaProxy) })
	}
}

func testOutage(t *testing.T, name string, viaProxy bool) {
	const (
		workers     = 64
		pace        = 5 * time.Millisecond
		threshold   = 5
		openTimeout = 400 * time.Millisecond
		probes      = 1
		attempts    = 2
		outage      = 2 * time.Second
		grace       = 100 * time.Millisecond // lets calls allowed before the breaker opened end
	)
	srv := redistest.Start(t)
	addr := srv.Addr()
	var dials func() int64
	var counter dialCountHook
	if viaProxy {
		px := redistest.NewProxy(t, srv.Addr())
		addr = px.Addr()
		dials = px.Dials
	} else {
		dials = counter.n.Load
	}

	log := &policytest.Recorder{Dials: dials}
	obs := &policytest.Recorder{}
	p, err := policy.New(
		policy.RetryOn(retryable.Connection),
		policy.MaxAttempts(attempts),
		policy.Backoff(backoff.Constant(5*time.Millisecond)),
		policy.Breaker(breaker.Settings{
			ConsecutiveFailures: threshold,
			OpenTimeout:         openTimeout,
			HalfOpenProbes:      probes,
			OnStateChange:       log.OnStateChange,
		}),
		policy.Observe(obs.Observe),
	)
	if err != nil {
		t.Fatal(err)
	}
	c := itClient(t, &redis.Options{
		Addr:         addr,
		DialTimeout:  500 * time.Millisecond,
		ReadTimeout:  500 * time.Millisecond,
		WriteTimeout: 500 * time.Millisecond,
	}, p)
	if !viaProxy {
		c.AddHook(&counter)
	}
	if err := c.Set(context.Background(), "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET before the outage: %v", err)
	}

	ld := policytest.StartLoad(t, workers, pace, func(int) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return c.Get(ctx, "k").Err()
	})
	time.Sleep(300 * time.Millisecond)

	killAt := time.Now()
	srv.Kill()
	open := log.AwaitChange(t, 2*time.Second, addr, breaker.Closed, breaker.Open, killAt)
	time.Sleep(grace)
	graceAt, graceDials := time.Now(), dials()
	time.Sleep(time.Until(killAt.Add(outage)))
	restartAt, restartDials := time.Now(), dials()
	srv.Restart(t)
	upAt := time.Now()

	closed := log.AwaitChange(t, 5*time.Second, addr, breaker.HalfOpen, breaker.Closed, restartAt)
	time.Sleep(300 * time.Millisecond)
	calls := ld.Stop()
	endAt := time.Now()

	// Calls that ended before the kill all succeeded.
	t.Run("before the outage", func(t *testing.T) {
		var before []policytest.Call
		for _, c := range calls {
			if c.End().Before(killAt) {
				before = append(before, c)
			}
		}
		if n := len(before) - policytest.CountClasses(before)[retryable.OK]; n != 0 || len(before) == 0 {
			t.Errorf("before the outage: %d calls, %d failed (%v); want all to succeed", len(before), n, policytest.DistinctErrors(before, 3))
		}
	})

	// While open: CircuitOpen, fast.
	t.Run("while open", func(t *testing.T) {
		during := policytest.Between(calls, open.At, restartAt)
		failed := policytest.Failed(during)
		classes := policytest.CountClasses(failed)
		p50, p99 := policytest.Quantile(policytest.Latencies(failed), 0.5), policytest.Quantile(policytest.Latencies(failed), 0.99)
		window := restartAt.Sub(graceAt)
		dialsInWindow := restartDials - graceDials
		halfOpens := policytest.CountChanges(policytest.ChangesBetween(log.Changes(addr), graceAt, restartAt), breaker.Open, breaker.HalfOpen)
		t.Logf("outage (%s): breaker opened %v after the kill (%d dials by then); %v open..restart: %d calls, %d failed [%s], failed-call latency p50 %v p99 %v",
			name,
			open.At.Sub(killAt).Round(time.Millisecond), open.Dials, restartAt.Sub(open.At).Round(time.Millisecond),
			len(during), len(failed), policytest.ClassSummary(classes), p50, p99)
		t.Logf("outage: dials to the dead node in the last %v of it: %d (%d half-open periods); all dials open..restart: %d; calls in that window: %d",
			window.Round(time.Millisecond), dialsInWindow, halfOpens, restartDials-open.Dials, len(policytest.Between(calls, graceAt, restartAt)))
		if len(failed) == 0 || len(failed) != len(during) {
			t.Errorf("open..restart: %d calls, %d failed; want every call to fail", len(during), len(failed))
		}
		if co := classes[retryable.CircuitOpen]; co*10 < len(failed)*9 {
			t.Errorf("open..restart: %d of %d failed calls are CircuitOpen [%s]; want at least 90%%", co, len(failed), policytest.ClassSummary(classes))
		}
		if p50 >= time.Millisecond {
			t.Errorf("open..restart: failed-call latency p50 %v (p99 %v); want under 1ms", p50, p99)
		}
		// Each half-open period lets probes through, each of which may dial
		// once per attempt; go-redis's pool may probe a refused port once a
		// second by itself.
		periods := int64(window/openTimeout) + 1
		maxDials := periods*probes*attempts + int64(window/time.Second) + 1 + 3
		if dialsInWindow > maxDials {
			t.Errorf("dead node got %d dials in %v; want at most %d (probe level, not one per call)", dialsInWindow, window, maxDials)
		}
		if int64(halfOpens) > periods+1 {
			t.Errorf("%d open->half-open transitions in %v with OpenTimeout %v; want at most %d", halfOpens, window, openTimeout, periods+1)
		}
		if halfOpens < 2 {
			t.Errorf("%d open->half-open transitions in %v with OpenTimeout %v; want the breaker to probe repeatedly", halfOpens, window, openTimeout)
		}
	})

	// After the restart: closed on its own, every call succeeds again.
	t.Run("after the restart", func(t *testing.T) {
		after := policytest.Between(calls, closed.At, endAt)
		t.Logf("recovery: restart took %v, breaker closed %v after it; %d calls after closing: [%s]",
			upAt.Sub(restartAt).Round(time.Millisecond), closed.At.Sub(upAt).Round(time.Millisecond), len(after), policytest.ClassSummary(policytest.CountClasses(after)))
		if len(after) == 0 || policytest.CountClasses(after)[retryable.OK] != len(after) {
			t.Errorf("after the breaker closed: %d calls, %d OK (%v); want every call to succeed", len(after),
				policytest.CountClasses(after)[retryable.OK], policytest.DistinctErrors(after, 3))
		}
		if d := closed.At.Sub(upAt); d > 3*time.Second {
			t.Errorf("breaker closed %v after the node was back; want within 3s", d)
		}
		if st := p.Breakers().Get(addr).State(); st != breaker.Closed {
			t.Errorf("breaker state at the end: %v; want closed", st)
		}
	})

	// Every transition was reported once, to both callbacks.
	t.Run("transitions", func(t *testing.T) {
		changes := checkOneOutage(t, log, obs, addr)
		if a, b := policytest.CountChanges(changes, breaker.Open, breaker.HalfOpen), policytest.CountChanges(changes, breaker.HalfOpen, breaker.Open); a != b+1 {
			t.Errorf("open->half-open %d times, half-open->open %d times; want one more of the first: %v", a, b, changes)
		}
	})
}

// TestIntegrationMissesAndErrorRepliesKeepBreakerClosed sends thousands of
// GETs on missing keys (redis.Nil) and WRONGTYPE error replies, single and
// pipelined, to a plain client and to a cluster, through breakers that
// would open at the first failure: none opens, none counts a failure, and
// nothing is retried.
func TestIntegrationMissesAndErrorRepliesKeepBreakerClosed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		start func(t *testing.T, p policy.Policy) (redis.UniversalClient, []*redistest.Server)
	}{
		{"client", func(t *testing.T, p policy.Policy) (redis.UniversalClient, []*redistest.Server) {
			srv := redistest.Start(t)
			c := itClient(t, &redis.Options{Addr: srv.Addr()}, p)
			return c, []*redistest.Server{srv}
		}},
		{"cluster", func(t *testing.T, p policy.Policy) (redis.UniversalClient, []*redistest.Server) {
			cl := redistest.StartCluster(t, 3, 0)
			c := itCluster(t, &redis.ClusterOptions{Addrs: cl.Addrs()}, p)
			return c, cl.Masters()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const (
				workers    = 8
				missesEach = 250
				pipesEach  = 2
				pipeLen    = 100
				wrongEach  = 25
			)
			log := &policytest.Recorder{}
			obs := &policytest.Recorder{}
			p, err := policy.New(
				policy.RetryOn(retryable.Connection, retryable.ClusterDown),
				policy.MaxAttempts(3),
				policy.Breaker(breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Minute, OnStateChange: log.OnStateChange}),
				policy.Observe(obs.Observe),
			)
			if err != nil {
				t.Fatal(err)
			}
			c, servers := tc.start(t, p)
			ctx := context.Background()

			// A string per worker, so HGET and LPUSH on it get WRONGTYPE.
			for w := range workers {
				if err := c.Set(ctx, "str:"+strconv.Itoa(w), "x", 0).Err(); err != nil {
					t.Fatalf("SET: %v", err)
				}
			}
			var (
				wg       sync.WaitGroup
				mu       sync.Mutex
				problems []string
				misses   atomic.Int64
				wrong    atomic.Int64
			)
			report := func(format string, args ...any) {
				mu.Lock()
				defer mu.Unlock()
				if len(problems) < 5 {
					problems = append(problems, fmt.Sprintf(format, args...))
				}
			}
			isWrongType := func(err error) bool {
				return err != nil && strings.HasPrefix(err.Error(), "WRONGTYPE") && retryable.Classify(err) == retryable.Response
			}
			start := time.Now()
			for w := range workers {
				wg.Go(func() {
					str := "str:" + strconv.Itoa(w)
					for i := range missesEach {
						if err := c.Get(ctx, fmt.Sprintf("missing:%d:%d", w, i)).Err(); err != redis.Nil {
							report("GET on a missing key: %v; want redis.Nil itself", err)
						}
						misses.Add(1)
						if i%(missesEach/wrongEach) == 0 {
							if err := c.LPush(ctx, str, "a").Err(); !isWrongType(err) {
								report("LPUSH on a string: %v; want WRONGTYPE", err)
							}
							wrong.Add(1)
						}
					}
					for range pipesEach {
						cmds, err := c.Pipelined(ctx, func(pipe redis.Pipeliner) error {
							for i := range pipeLen {
								pipe.Get(ctx, fmt.Sprintf("missing:p%d:%d", w, i))
							}
							pipe.HGet(ctx, str, "f")
							return nil
						})
						misses.Add(pipeLen)
						wrong.Add(1)
						if err == nil {
							report("pipeline of misses and a WRONGTYPE: no error")
						}
						for _, cmd := range cmds[:pipeLen] {
							if cmd.Err() != redis.Nil {
								report("pipelined GET on a missing key: %v; want redis.Nil", cmd.Err())
							}
						}
						if err := cmds[pipeLen].Err(); !isWrongType(err) {
							report("pipelined HGET on a string: %v; want WRONGTYPE", err)
						}
					}
				})
			}
			wg.Wait()
			took := time.Since(start)
			for _, s := range problems {
				t.Error(s)
			}

			nodes := 0
			p.Breakers().Each(func(b *breaker.Breaker) {
				nodes++
				if cs := b.Counts(); cs.State != breaker.Closed || cs.ConsecutiveFailures != 0 || cs.Level != 0 || cs.Forced {
					t.Errorf("breaker of %s after misses and WRONGTYPE: %+v; want closed with no failures", b.Node(), cs)
				}
			})
			if nodes < len(servers) {
				t.Errorf("%d breakers; want one per node (%d)", nodes, len(servers))
			}
			if changes := log.Changes(""); len(changes) != 0 {
				t.Errorf("breakers reported transitions %v; want none", changes)
			}
			if events := obs.Events(); len(events) != 0 {
				t.Errorf("policy events %s; want none (no retry, no refusal)", obs.Summary())
			}
			// Each WRONGTYPE command ran once: nothing was retried.
			var ran int64
			for _, s := range servers {
				ran += s.CommandStat(t, "lpush").Reached() + s.CommandStat(t, "hget").Reached()
			}
			if ran != wrong.Load() {
				t.Errorf("servers ran LPUSH/HGET %d times; the test sent %d", ran, wrong.Load())
			}
			t.Logf("%s: %d misses and %d WRONGTYPE replies in %v through %d breakers: all closed, 0 failures counted",
				tc.name, misses.Load(), wrong.Load(), took.Round(time.Millisecond), nodes)
		})
	}
}
