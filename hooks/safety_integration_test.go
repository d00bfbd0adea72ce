package hooks_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
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

// These tests hold the library to its two promises where go-redis's own
// machinery makes them hard to keep: an unsafe command never runs twice,
// and the caller sees go-redis's own errors. Each compares with a bare
// go-redis client in the same run where that shows what the hook changes.

// ownError fails t when err is not an error go-redis produced: a wrapper of
// this library, or one of its refusals, where the node's error was due.
func ownError(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if strings.Contains(err.Error(), "retryable") || itRefusal(err) {
		t.Errorf("%s: got %T %q, a wrapper or refusal of this library; want go-redis's own error", what, err, err)
	}
}

// timeoutError fails t unless err is go-redis's own socket timeout: a
// net.Error whose Timeout() is true, classified Timeout.
func timeoutError(t *testing.T, what string, err error) {
	t.Helper()
	ownError(t, what, err)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("%s: got %T %v; want a net.Error timeout", what, err, err)
	}
	if cl := retryable.Classify(err); cl != retryable.Timeout {
		t.Errorf("%s: Classify = %v; want Timeout", what, cl)
	}
}

// counterValue reads key as an integer on s; 0 when it does not exist.
func counterValue(t *testing.T, s *redistest.Server, key string) int {
	t.Helper()
	v, err := s.DoErr("GET", key)
	if err != nil {
		return 0
	}
	str, _ := v.(string)
	var n int
	_, _ = fmt.Sscan(str, &n)
	return n
}

// TestIntegrationPipelineWriteFailsPartWay sends four INCRs and then a
// value larger than the server accepts: the server runs the INCRs, refuses
// the bulk and closes the connection while the client is still writing.
// go-redis stamps that one write error on every command of the pipeline;
// the INCRs ran all the same, so none may be sent again.
func TestIntegrationPipelineWriteFailsPartWay(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, "proto-max-bulk-len 1mb")
	big := strings.Repeat("x", 24<<20)
	ctx := context.Background()
	opt := itOptions(s.Addr())
	opt.WriteTimeout = 10 * time.Second
	opt.ReadTimeout = 10 * time.Second

	run := func(t *testing.T, c redis.Cmdable, prefix string) (errs []error) {
		t.Helper()
		cmds, _ := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := range 4 {
				p.Incr(ctx, fmt.Sprintf("%s:%d", prefix, i))
			}
			p.Set(ctx, prefix+":big", big, 0)
			return nil
		})
		for _, cmd := range cmds {
			errs = append(errs, cmd.Err())
		}
		return errs
	}
	ran := func(t *testing.T, prefix string) (total int) {
		t.Helper()
		for i := range 4 {
			total += counterValue(t, s, fmt.Sprintf("%s:%d", prefix, i))
		}
		return total
	}

	t.Run("bare go-redis, retries off", func(t *testing.T) {
		bare := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, WriteTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second})
		defer bare.Close()
		errs := run(t, bare, "bare")
		t.Logf("bare: the four INCRs ran %d times in all; errors %v", ran(t, "bare"), errs[0])
		if n := ran(t, "bare"); n != 4 {
			t.Skipf("the server ran the INCRs %d times in all for a bare client; this fault did not reproduce here", n)
		}
	})
	for _, tc := range []struct {
		name string
		p    policy.Policy
	}{
		{"Default", policy.Default()},
		{"no breaker", itPolicy(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := itClient(t, opt, tc.p)
			prefix := "hooked:" + strings.ReplaceAll(tc.name, " ", "")
			errs := run(t, c, prefix)
			if n := ran(t, prefix); n != 4 {
				t.Errorf("the four INCRs ran %d times in all; want 4 (each once)", n)
			}
			for i, err := range errs {
				if err == nil {
					t.Errorf("command %d: no error, yet the pipeline's connection failed", i)
				}
				ownError(t, fmt.Sprintf("command %d", i), err)
			}
		})
	}
}

// clusterBehindProxies starts a 3-master cluster and a proxy in front of
// each master; the dialer it returns sends every connection to a master
// through its proxy, so a test can cut one node's replies.
func clusterBehindProxies(t *testing.T) (*redistest.Cluster, map[string]*redistest.Proxy, func(context.Context, string, string) (net.Conn, error)) {
	t.Helper()
	cl := redistest.StartCluster(t, 3, 0)
	proxies := make(map[string]*redistest.Proxy)
	for _, m := range cl.Masters() {
		proxies[m.Addr()] = redistest.NewProxy(t, m.Addr())
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if px, ok := proxies[addr]; ok {
			addr = px.Addr()
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return cl, proxies, dial
}

// keysOn returns n keys whose slots the master m serves.
func keysOn(cl *redistest.Cluster, m *redistest.Server, prefix string, n int) []string {
	var keys []string
	for i := 0; len(keys) < n; i++ {
		k := fmt.Sprintf("%s:%d", prefix, i)
		if cl.MasterFor(k) == m {
			keys = append(keys, k)
		}
	}
	return keys
}

// TestIntegrationClusterPipelineNotResent cuts each master's replies
// part-way through a pipeline of INCRs, LPUSHes and XADD * on fresh keys.
// go-redis's cluster loop re-sends the node's whole batch after such a
// cut, the commands whose replies it had read included; with the hook,
// no key may end above 1, every command keeps go-redis's own outcome, and
// a command whose reply was read keeps its value.
func TestIntegrationClusterPipelineNotResent(t *testing.T) {
	t.Parallel()
	cl, proxies, dial := clusterBehindProxies(t)
	ctx := context.Background()
	masters := cl.Masters()
	opt := func() *redis.ClusterOptions {
		return &redis.ClusterOptions{Addrs: cl.Addrs(), Dialer: dial,
			DialTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second}
	}
	oneFailure, err := policy.Default().With(policy.Breaker(breaker.Settings{ConsecutiveFailures: 1}))
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 12
	for _, tc := range []struct {
		name   string
		client func(t *testing.T) *redis.ClusterClient
		hooked bool
	}{
		{"bare go-redis", func(t *testing.T) *redis.ClusterClient {
			c := redis.NewClusterClient(opt())
			t.Cleanup(func() { _ = c.Close() })
			return c
		}, false},
		{"Default", func(t *testing.T) *redis.ClusterClient { return itCluster(t, opt(), policy.Default()) }, true},
		{"no breaker", func(t *testing.T) *redis.ClusterClient { return itCluster(t, opt(), itPolicy(t)) }, true},
		{"breaker opens at once", func(t *testing.T) *redis.ClusterClient { return itCluster(t, opt(), oneFailure) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.client(t)
			if err := c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return n.Ping(ctx).Err() }); err != nil {
				t.Fatalf("warm-up: %v", err)
			}
			prefix := strings.ReplaceAll(tc.name, " ", "")
			doubles, succeeded, wrongValue := 0, 0, 0
			for r := range rounds {
				type sent struct {
					key  string
					node *redistest.Server
					cmd  redis.Cmder
					kind string
				}
				var all []sent
				_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
					for mi, m := range masters {
						for _, k := range keysOn(cl, m, fmt.Sprintf("%s:%d:%d:incr", prefix, r, mi), 5) {
							all = append(all, sent{k, m, p.Incr(ctx, k), "incr"})
						}
						k := keysOn(cl, m, fmt.Sprintf("%s:%d:%d:list", prefix, r, mi), 1)[0]
						all = append(all, sent{k, m, p.LPush(ctx, k, "x"), "lpush"})
						k = keysOn(cl, m, fmt.Sprintf("%s:%d:%d:stream", prefix, r, mi), 1)[0]
						all = append(all, sent{k, m, p.XAdd(ctx, &redis.XAddArgs{Stream: k, Values: []any{"f", "v"}}), "xadd"})
					}
					// Arm the cut now: each node's batch loses its replies
					// after the first two INCR replies (":1\r\n" each).
					for _, px := range proxies {
						px.CutNextReply(9)
					}
					return nil
				})
				for _, s := range all {
					var n int64
					switch s.kind {
					case "incr":
						n = int64(counterValue(t, s.node, s.key))
					case "lpush":
						v, _ := s.node.DoErr("LLEN", s.key)
						n, _ = v.(int64)
					case "xadd":
						v, _ := s.node.DoErr("XLEN", s.key)
						n, _ = v.(int64)
					}
					if n > 1 {
						doubles++
					}
					err := s.cmd.Err()
					if tc.hooked && !(itRefusal(err) && n == 0) {
						// A refusal is right only for a command that never
						// reached its node.
						ownError(t, s.kind+" "+s.key, err)
					}
					if err == nil {
						succeeded++
						if ic, ok := s.cmd.(*redis.IntCmd); ok && s.kind != "lpush" && ic.Val() != n {
							wrongValue++
						}
					}
				}
			}
			t.Logf("%s: %d rounds, %d unsafe commands ran more than once, %d calls reported success, %d with a value the server disagrees with",
				tc.name, rounds, doubles, succeeded, wrongValue)
			if tc.hooked {
				if doubles != 0 {
					t.Errorf("%d unsafe commands ran more than once; want 0", doubles)
				}
				if wrongValue != 0 {
					t.Errorf("%d INCRs reported a value the server does not hold", wrongValue)
				}
			}
		})
	}
}

// TestIntegrationClusterWatchTimeout runs transactions through
// ClusterClient.Watch, which go-redis runs on a node client (the cluster
// hook never sees it), against a frozen master: the caller gets the
// socket timeout as go-redis produced it.
func TestIntegrationClusterWatchTimeout(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t, 3, 0)
	ctx := context.Background()
	key := "watched"
	m := cl.MasterFor(key)
	cases := map[string]func(tx *redis.Tx) error{
		"Tx": func(tx *redis.Tx) error { return tx.Ping(ctx).Err() },
		"Tx pipeline": func(tx *redis.Tx) error {
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Ping(ctx)
				return nil
			})
			return err
		},
	}
	for _, name := range []string{"Tx", "Tx pipeline"} {
		t.Run(name, func(t *testing.T) {
			// A client of its own: go-redis's Watch loop retries a WATCH
			// that timed out, and those failures may open the node's
			// breaker for the next call, which would then rightly be
			// refused before it reached the node.
			c := itCluster(t, &redis.ClusterOptions{Addrs: cl.Addrs(), ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond}, policy.Default())
			if err := c.Set(ctx, key, "1", 0).Err(); err != nil {
				t.Fatalf("warm-up: %v", err)
			}
			m.Freeze()
			err := c.Watch(ctx, cases[name], key)
			m.Thaw()
			timeoutError(t, "Watch", err)
		})
	}
}

// TestIntegrationDedicatedConnTimeout reads through a dedicated connection
// (Conn, and the Tx of Watch) from a frozen server: the read timeout breaks
// that connection, so a retry on it cannot succeed. The caller gets the
// timeout, as a bare client with retries off returns it; the server is not
// asked again, the breaker does not count the retry, and no second retry
// is scheduled. (A hook cannot know in advance that it runs on a dedicated
// connection: go-redis refuses the retry at once, without I/O, after one
// backoff delay.)
func TestIntegrationDedicatedConnTimeout(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	ctx := context.Background()
	opt := itOptions(s.Addr())
	opt.ReadTimeout = 300 * time.Millisecond
	opt.WriteTimeout = 300 * time.Millisecond
	var rec policytest.Recorder
	p, err := policy.Default().With(policy.Observe(rec.Observe))
	if err != nil {
		t.Fatal(err)
	}
	c := itClient(t, opt, p)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("warm-up: %v", err)
	}
	bare := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, ReadTimeout: 300 * time.Millisecond, ContextTimeoutEnabled: true})
	defer bare.Close()

	cases := []struct {
		name string
		run  func(c *redis.Client) error
	}{
		{"Conn", func(c *redis.Client) error {
			conn := c.Conn()
			defer conn.Close()
			if err := conn.Ping(ctx).Err(); err != nil {
				return fmt.Errorf("warm-up ping: %w", err)
			}
			s.Freeze()
			defer s.Thaw()
			return conn.Get(ctx, "k").Err()
		}},
		{"Tx", func(c *redis.Client) error {
			return c.Watch(ctx, func(tx *redis.Tx) error {
				if err := tx.Ping(ctx).Err(); err != nil {
					return fmt.Errorf("warm-up ping: %w", err)
				}
				s.Freeze()
				defer s.Thaw()
				return tx.Get(ctx, "k").Err()
			})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bareErr := tc.run(bare)
			timeoutError(t, "bare", bareErr)
			before := len(rec.Events())
			gets := s.CommandStat(t, "get").Calls
			err := tc.run(c)
			timeoutError(t, "hooked", err)
			if n := s.CommandStat(t, "get").Calls - gets; n != 1 {
				t.Errorf("the server ran GET %d times; want 1", n)
			}
			retries, last := 0, policy.Event{}
			for _, e := range rec.Events()[before:] {
				if e.Kind == policy.RetryScheduled {
					retries++
				}
				last = e
			}
			if retries > 1 || last.Kind != policy.GaveUp || last.Reason != policy.ConnBroken {
				t.Errorf("%d retries scheduled, last event %+v; want at most 1, then gave up (connection broken)", retries, last)
			}
			if st := p.Breakers().Get(s.Addr()).Counts(); st.ConsecutiveFailures > 1 {
				t.Errorf("the breaker counted %d failures for one call", st.ConsecutiveFailures)
			}
		})
	}
}

// TestIntegrationRefusedRetryKeepsNodeError makes the first attempt of a
// call reach the node and fail, and then has the breaker (opened by that
// failure) or the retry budget refuse the retry: the caller gets the
// node's error, not the refusal.
func TestIntegrationRefusedRetryKeepsNodeError(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	ctx := context.Background()
	opt := itOptions(s.Addr())
	opt.ReadTimeout = 200 * time.Millisecond
	emptyBudget, err := breaker.NewBudget(breaker.BudgetSettings{Ratio: 0.0001, MaxCredit: 1})
	if err != nil {
		t.Fatal(err)
	}
	base := []policy.Option{
		policy.RetryOn(retryable.Connection),
		policy.MaxAttempts(3),
		policy.Backoff(backoff.Constant(10 * time.Millisecond)),
	}
	cases := []struct {
		name string
		opts []policy.Option
	}{
		{"breaker", []policy.Option{policy.Breaker(breaker.Settings{ConsecutiveFailures: 1, OpenTimeout: time.Minute})}},
		{"budget", []policy.Option{policy.NoBreaker(), policy.Budget(emptyBudget)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := policy.New(append(base, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			c := itClient(t, opt, p)
			if err := c.Ping(ctx).Err(); err != nil {
				t.Fatalf("warm-up: %v", err)
			}
			s.Freeze()
			err = c.Get(ctx, "k").Err()
			s.Thaw()
			timeoutError(t, "GET", err)
		})
	}
}

// TestIntegrationRefusedBatchMarksEveryCommand has the breaker and the
// limiter refuse pipelines and transactions before their first attempt:
// every command inside carries the refusal, none reports a value it never
// read.
func TestIntegrationRefusedBatchMarksEveryCommand(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	ctx := context.Background()
	s.Do(t, "SET", "known", "value")
	lim, err := breaker.NewLimiter(0.001, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	limited, err := policy.New(policy.Limit(lim))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		p      policy.Policy
		refuse func(c *redis.Client, p policy.Policy)
		class  retryable.Class
	}{
		{"breaker forced open", policy.Default(), func(c *redis.Client, p policy.Policy) {
			p.Breakers().Get(s.Addr()).ForceOpen()
		}, retryable.CircuitOpen},
		{"limiter", limited, func(c *redis.Client, p policy.Policy) {
			_ = c.Get(ctx, "known").Err() // takes the one token
		}, retryable.Throttled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := itClient(t, itOptions(s.Addr()), tc.p)
			tc.refuse(c, tc.p)
			check := func(what string, cmds []redis.Cmder, err error) {
				t.Helper()
				if cl := retryable.Classify(err); cl != tc.class {
					t.Errorf("%s: error %v classifies as %v; want %v", what, err, cl, tc.class)
				}
				for _, cmd := range cmds {
					if cl := retryable.Classify(cmd.Err()); cl != tc.class {
						t.Errorf("%s: %s has error %v (class %v), value %q; want the refusal (%v)", what, cmd.Name(), cmd.Err(), cl, fmt.Sprint(cmd), tc.class)
					}
				}
			}
			cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				p.Incr(ctx, "refused:incr")
				p.Get(ctx, "known")
				return nil
			})
			check("Pipelined", cmds, err)
			cmds, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Incr(ctx, "refused:tx")
				return nil
			})
			check("TxPipelined", cmds, err)
			if v := counterValue(t, s, "refused:incr") + counterValue(t, s, "refused:tx"); v != 0 {
				t.Errorf("a refused INCR ran on the server")
			}
		})
	}
}
