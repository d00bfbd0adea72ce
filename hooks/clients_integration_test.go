package hooks_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/internal/redistest"
	"github.com/go-retryable/retryable/internal/redistest/policytest"
	"github.com/go-retryable/retryable/policy"
)

// TestIntegrationClientKinds runs the same checks on every kind of client
// the hooks package builds, against real servers: a plain server, a
// 3-master cluster, a 2-shard ring and a master watched by a real
// sentinel. Each client must keep go-redis's own results (redis.Nil,
// redis.TxFailedErr) and run the policy: a GET to a paused server times
// out, is retried and succeeds. Install, for its part, refuses clients
// built with go-redis's default retries.
func TestIntegrationClientKinds(t *testing.T) {
	t.Parallel()
	single := redistest.Start(t)
	shardA, shardB := redistest.Start(t), redistest.Start(t)
	cl := redistest.StartCluster(t, 3, 0)
	master := redistest.Start(t)
	sentinel := redistest.StartSentinel(t, master, "mymaster")

	timeouts := func() (*policytest.Recorder, policy.Policy) {
		rec := &policytest.Recorder{}
		// 100 ms per GET attempt, so that a GET to a server paused for
		// 400 ms is retried a few times and then succeeds.
		return rec, itPolicy(t, policy.Observe(rec.Observe), policy.Command([]string{"get"}, policy.AttemptTimeout(100*time.Millisecond)))
	}
	onServers := func(servers ...*redistest.Server) func(string) []*redistest.Server {
		return func(string) []*redistest.Server { return servers }
	}
	onCluster := func(key string) []*redistest.Server { return []*redistest.Server{cl.MasterFor(key)} }

	tests := []struct {
		name    string
		servers func(key string) []*redistest.Server // where key lives
		build   func(p policy.Policy) (redis.UniversalClient, error)
	}{
		{"NewClient", onServers(single), func(p policy.Policy) (redis.UniversalClient, error) {
			return hooks.NewClient(itOptions(single.Addr()), p)
		}},
		{"NewClusterClient", onCluster, func(p policy.Policy) (redis.UniversalClient, error) {
			return hooks.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs(), DialTimeout: time.Second, ReadTimeout: time.Second}, p)
		}},
		{"NewRing", onServers(shardA, shardB), func(p policy.Policy) (redis.UniversalClient, error) {
			return hooks.NewRing(&redis.RingOptions{
				Addrs:       map[string]string{"a": shardA.Addr(), "b": shardB.Addr()},
				DialTimeout: time.Second, ReadTimeout: time.Second,
			}, p)
		}},
		{"NewUniversalClient single", onServers(single), func(p policy.Policy) (redis.UniversalClient, error) {
			return hooks.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{single.Addr()}, DialTimeout: time.Second, ReadTimeout: time.Second}, p)
		}},
		{"NewUniversalClient cluster", onCluster, func(p policy.Policy) (redis.UniversalClient, error) {
			return hooks.NewUniversalClient(&redis.UniversalOptions{Addrs: cl.Addrs(), DialTimeout: time.Second, ReadTimeout: time.Second}, p)
		}},
		{"NewFailoverClient", onServers(master), func(p policy.Policy) (redis.UniversalClient, error) {
			return hooks.NewFailoverClient(&redis.FailoverOptions{
				MasterName: "mymaster", SentinelAddrs: []string{sentinel.Addr()},
				DialTimeout: time.Second, ReadTimeout: time.Second,
			}, p)
		}},
		{"NewUniversalClient failover", onServers(master), func(p policy.Policy) (redis.UniversalClient, error) {
			return hooks.NewUniversalClient(&redis.UniversalOptions{
				MasterName: "mymaster", Addrs: []string{sentinel.Addr()},
				DialTimeout: time.Second, ReadTimeout: time.Second,
			}, p)
		}},
	}
	t.Run("Install refuses built-in retries", func(t *testing.T) {
		itInstallRefusals(t, single.Addr(), cl.Addrs())
	})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, p := timeouts()
			c, err := tt.build(p)
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			defer c.Close()
			itExercise(t, c, fmt.Sprintf("kind%d", i), rec, tt.servers)
		})
	}
}

// itInstallRefusals installs a policy on real clients built with
// go-redis's defaults: each is refused with an error that names the
// setting to change, and accepted with the opt-ins, after which it works.
func itInstallRefusals(t *testing.T, addr string, clusterAddrs []string) {
	p := itPolicy(t)
	tests := []struct {
		name    string
		client  func() redis.UniversalClient
		setting string
	}{
		{"Client", func() redis.UniversalClient { return redis.NewClient(&redis.Options{Addr: addr}) }, "MaxRetries"},
		{"Client without context deadlines", func() redis.UniversalClient {
			return redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1})
		}, "ContextTimeoutEnabled"},
		{"ClusterClient", func() redis.UniversalClient {
			return redis.NewClusterClient(&redis.ClusterOptions{Addrs: clusterAddrs, MaxRetries: 3})
		}, "MaxRetries"},
		{"ClusterClient defaults", func() redis.UniversalClient {
			return redis.NewClusterClient(&redis.ClusterOptions{Addrs: clusterAddrs})
		}, "DialerRetries"},
		{"Ring", func() redis.UniversalClient {
			return redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": addr}})
		}, "MaxRetries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.client()
			defer c.Close()
			err := hooks.Install(c, p)
			if err == nil {
				t.Fatal("Install accepted a client whose settings defeat the policy")
			}
			if !strings.HasPrefix(err.Error(), "hooks: ") || !strings.Contains(err.Error(), tt.setting) {
				t.Errorf("Install: %v; want a hooks error naming %s", err, tt.setting)
			}
			if err := hooks.Install(c, p, hooks.AllowBuiltinRetries(), hooks.AllowNoContextTimeout()); err != nil {
				t.Fatalf("Install with both opt-ins: %v", err)
			}
			if err := c.Set(context.Background(), "install:"+tt.name, "v", 0).Err(); err != nil {
				t.Errorf("SET after Install: %v", err)
			}
		})
	}
	t.Run("Client with retries off", func(t *testing.T) {
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1, ContextTimeoutEnabled: true})
		defer c.Close()
		if err := hooks.Install(c, p); err != nil {
			t.Fatalf("Install: %v", err)
		}
		if err := c.Ping(context.Background()).Err(); err != nil {
			t.Errorf("PING: %v", err)
		}
	})
}

// itExercise checks one client end to end: SET, GET, a miss, pipelines,
// a transaction, a WATCH conflict, and a GET retried while the servers
// holding its key are paused. Keys share the hash tag {tag}, so that a
// cluster or ring keeps them on one node.
func itExercise(t *testing.T, c redis.UniversalClient, tag string, rec *policytest.Recorder, servers func(string) []*redistest.Server) {
	t.Helper()
	ctx := context.Background()
	k := func(name string) string { return "{" + tag + "}" + name }

	step(t, "commands", func(t *testing.T) {
		if err := c.Set(ctx, k("a"), "1", 0).Err(); err != nil {
			t.Fatalf("SET: %v", err)
		}
		if v, err := c.Get(ctx, k("a")).Result(); err != nil || v != "1" {
			t.Errorf("GET = %q, %v; want \"1\"", v, err)
		}
		if err := c.Get(ctx, k("missing")).Err(); err != redis.Nil {
			t.Errorf("GET of a missing key: %v; want err == redis.Nil", err)
		}

		var get *redis.StringCmd
		var incr *redis.IntCmd
		if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, k("b"), "2", 0)
			get = p.Get(ctx, k("b"))
			incr = p.Incr(ctx, k("n"))
			return nil
		}); err != nil || get.Val() != "2" || incr.Val() != 1 {
			t.Errorf("pipeline: %v, GET %q, INCR %d; want nil, \"2\", 1", err, get.Val(), incr.Val())
		}
		if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Get(ctx, k("missing"))
			return nil
		}); err != redis.Nil {
			t.Errorf("pipeline with a miss: %v; want err == redis.Nil", err)
		}
		if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			incr = p.Incr(ctx, k("n"))
			get = p.Get(ctx, k("a"))
			return nil
		}); err != nil || incr.Val() != 2 || get.Val() != "1" {
			t.Errorf("transaction: %v, INCR %d, GET %q; want nil, 2, \"1\"", err, incr.Val(), get.Val())
		}
	})

	// WATCH: another connection changes the key between WATCH and EXEC.
	step(t, "WATCH", func(t *testing.T) {
		err := c.Watch(ctx, func(tx *redis.Tx) error {
			if err := tx.Get(ctx, k("a")).Err(); err != nil {
				return err
			}
			if err := c.Set(ctx, k("a"), "theirs", 0).Err(); err != nil {
				return err
			}
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, k("a"), "mine", 0)
				return nil
			})
			return err
		}, k("a"))
		if err != redis.TxFailedErr {
			t.Errorf("WATCH conflict: %v; want err == redis.TxFailedErr", err)
		}
		if v, err := c.Get(ctx, k("a")).Result(); err != nil || v != "theirs" {
			t.Errorf("after the WATCH conflict GET = %q, %v; want \"theirs\"", v, err)
		}
		if err := c.Watch(ctx, func(tx *redis.Tx) error {
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, k("a"), "mine", 0)
				return nil
			})
			return err
		}, k("a")); err != nil {
			t.Errorf("WATCH without conflict: %v", err)
		}
	})

	// The policy runs: a GET to a paused server times out after the
	// policy's 100 ms attempt timeout, is retried and succeeds once the
	// pause is over.
	step(t, "policy", func(t *testing.T) {
		before := rec.Count(policy.RetryScheduled, "get", retryable.Timeout)
		for _, s := range servers(k("a")) {
			s.Do(t, "CLIENT", "PAUSE", 400, "ALL")
		}
		start := time.Now()
		v, err := c.Get(ctx, k("a")).Result()
		took := time.Since(start)
		if err != nil || v != "mine" {
			t.Errorf("GET during a 400 ms pause = %q, %v (after %v); want \"mine\"", v, err, took)
		}
		retried := rec.Count(policy.RetryScheduled, "get", retryable.Timeout) - before
		t.Logf("GET during a 400 ms pause took %v, %d retries after a timeout; events: %s", took.Round(time.Millisecond), retried, rec.Summary())
		if retried == 0 {
			t.Error("the GET was not retried after a timeout: the policy did not run (or go-redis gave up first)")
		}
		for _, e := range rec.Events() {
			if e.Kind != policy.RetryScheduled && e.Kind != policy.Recovered || e.Command != "get" {
				t.Errorf("unexpected event %v %s %v: %v", e.Kind, e.Command, e.Class, e.Err)
			}
		}
	})
}

// itHandshakeSpy is a hook added after the policy's, so it sits inside
// it: it sees every handshake command go-redis sends, each time it is
// sent, and its result.
type itHandshakeSpy struct {
	mu     sync.Mutex
	sent   map[redis.Cmder]int
	failed map[string]int
}

func (s *itHandshakeSpy) note(cmd redis.Cmder, err error) {
	name := cmd.Name()
	switch name {
	case "hello", "auth", "select", "client", "readonly":
	default:
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent[cmd]++
	if err != nil {
		s.failed[name+" "+retryable.Classify(err).String()]++
	}
}

func (s *itHandshakeSpy) DialHook(next redis.DialHook) redis.DialHook { return next }

func (s *itHandshakeSpy) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		s.note(cmd, err)
		return err
	}
}

func (s *itHandshakeSpy) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			cerr := c.Err()
			if cerr == nil && err != nil && err != redis.Nil {
				cerr = err
			}
			s.note(c, cerr)
		}
		return err
	}
}

// TestIntegrationHandshakeNotRetried runs a client with a password, DB 2
// and a client name through a restart and a freeze of its server: the
// handshake commands go-redis sends on every new connection (HELLO with
// AUTH and SETNAME, SELECT, CLIENT ...) fail along the way, but the engine
// neither retries them nor reports them: only the commands around them.
func TestIntegrationHandshakeNotRetried(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, "requirepass secret")
	var rec policytest.Recorder
	opt := itOptions(s.Addr())
	opt.Password, opt.DB, opt.ClientName = "secret", 2, "itest"
	c := itClient(t, opt, itPolicy(t, policy.Observe(rec.Observe)))
	spy := &itHandshakeSpy{sent: make(map[redis.Cmder]int), failed: make(map[string]int)}
	c.AddHook(spy)

	const workers = 2
	seq := make([]int, workers)
	ld := policytest.StartLoad(t, workers, 2*time.Millisecond, func(w int) error {
		seq[w]++
		key, val := "hs:"+strconv.Itoa(w), strconv.Itoa(seq[w])
		ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
		defer cancel()
		if err := c.Set(ctx, key, val, 0).Err(); err != nil {
			return err
		}
		got, err := c.Get(ctx, key).Result()
		if err == redis.Nil || err == nil && got != val {
			// %v, not %w: a miss (redis.Nil) is a failure here.
			return fmt.Errorf("GET %s = %q, %v; want %q", key, got, err, val)
		}
		return err
	})
	ld.AwaitProgress(t, 10*time.Second, 3, nil)
	step(t, "restart", func(t *testing.T) {
		s.Kill()
		time.Sleep(500 * time.Millisecond)
		s.Restart(t)
		ld.AwaitProgress(t, 10*time.Second, 3, nil)
	})
	step(t, "freeze", func(t *testing.T) {
		s.Freeze()
		time.Sleep(time.Second)
		s.Thaw()
		ld.AwaitProgress(t, 10*time.Second, 3, nil)
	})
	calls := ld.Stop()

	errs := policytest.Failed(calls)
	total := len(calls) - len(errs)
	spy.mu.Lock()
	sent, failed := len(spy.sent), fmt.Sprint(spy.failed)
	repeated := 0
	for _, n := range spy.sent {
		if n > 1 {
			repeated++
		}
	}
	// Error replies (CLIENT SETINFO is unknown to Redis 7.0) come with
	// every connection; the failures this test is about are the others.
	handshakeFailures := 0
	for k, n := range spy.failed {
		if !strings.HasSuffix(k, " Response") {
			handshakeFailures += n
		}
	}
	spy.mu.Unlock()
	t.Logf("%d rounds succeeded, %d failed; %d handshake commands sent, failures by command %s; events: %s",
		total, len(errs), sent, failed, rec.Summary())

	for _, e := range rec.Events() {
		switch e.Command {
		case "hello", "auth", "select", "client", "readonly":
			t.Errorf("event %v names handshake command %s (%v)", e.Kind, e.Command, e.Err)
		}
	}
	if repeated != 0 {
		t.Errorf("%d handshake commands were sent more than once", repeated)
	}
	if handshakeFailures == 0 {
		t.Fatal("no handshake command failed on its connection: the test did not exercise the path it is about")
	}
	if rec.Count(policy.RetryScheduled, "") == 0 {
		t.Error("no command was retried across the restart")
	}
	for _, c := range errs {
		if itRefusal(c.Err) || !(c.Class.Is(retryable.Connection) || c.Class == retryable.Canceled) {
			t.Errorf("a call failed with %v (class %v); want a Connection-class error or the caller's deadline", c.Err, c.Class)
		}
	}
	// The reconnected client is still authenticated, on DB 2, named.
	list, _ := s.Do(t, "CLIENT", "LIST").(string)
	named := 0
	for line := range strings.SplitSeq(strings.TrimSpace(list), "\n") {
		if strings.Contains(line, " name=itest ") {
			named++
			if !strings.Contains(line, " db=2 ") {
				t.Errorf("a connection of the client is not on DB 2: %s", line)
			}
		}
	}
	if named == 0 {
		t.Errorf("no connection named itest after the reconnections:\n%s", list)
	}
	db2 := s.Client(t, func(o *redis.Options) { o.DB = 2 })
	if v, err := db2.Get(context.Background(), "hs:0").Result(); err != nil || v == "" {
		t.Errorf("hs:0 in DB 2 = %q, %v; want the last value written", v, err)
	}
}
