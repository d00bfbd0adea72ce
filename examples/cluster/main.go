// Command cluster runs a Redis Cluster client with one circuit breaker per
// node: a sick node fails its own keys fast while the others keep serving.
//
// hooks.NewClusterClient installs the policy at two levels: the retry loop
// runs over the whole cluster (so a retry can follow a slot to a new
// master) and every node, including nodes found later, gets a breaker of
// its own from the policy's breaker.Group. MOVED and ASK are go-redis's to
// follow and never count as failures.
//
// The program writes keys across the nodes, then isolates one node by hand
// (an operator's ForceOpen, which works on any cluster), and, on a cluster
// it started itself, kills a node's process and brings it back: the node's
// breaker opens by itself after five failed calls in a row, refuses the
// node's keys while it PINGs the node itself, and closes by itself as soon
// as the node answers.
//
// It uses the cluster at REDIS_CLUSTER_ADDRS (comma-separated host:port of
// some of its nodes) when that is set; otherwise it starts three
// redis-server processes from PATH on free loopback ports and joins them
// into a cluster; with no redis-server it says how to get one and exits:
//
//	go run ./examples/cluster
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/examples/internal/program"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/policy"
)

func main() { program.Main("cluster", run) }

const (
	keys   = 30
	prefix = "retryable-cluster:"
)

func key(i int) string { return prefix + strconv.Itoa(i) }

// howTo is printed when there is no cluster to use.
const howTo = `No Redis Cluster to use: REDIS_CLUSTER_ADDRS is not set and PATH has no redis-server.
Either point the example at a cluster:

	REDIS_CLUSTER_ADDRS=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 go run ./examples/cluster

or install Redis 7 (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)
and run it again: it then starts a three-node cluster of its own on free ports and stops it
at the end. To start one by hand instead:

	for p in 7000 7001 7002; do redis-server --port $p --cluster-enabled yes \
	  --cluster-config-file nodes-$p.conf --save '' --daemonize yes; done
	redis-cli --cluster create 127.0.0.1:7000 127.0.0.1:7001 127.0.0.1:7002 --cluster-yes
`

func run(ctx context.Context, w io.Writer) error {
	var addrs []string
	var local *program.Cluster
	if env := os.Getenv("REDIS_CLUSTER_ADDRS"); env != "" {
		addrs = strings.Split(env, ",")
		fmt.Fprintf(w, "cluster: REDIS_CLUSTER_ADDRS=%s\n", env)
	} else {
		c, err := program.StartCluster(ctx, 3)
		if err == program.ErrNoServer {
			fmt.Fprint(w, howTo)
			return nil
		}
		if err != nil {
			return err
		}
		defer c.Close()
		local, addrs = c, c.Addrs()
		fmt.Fprintf(w, "cluster: started 3 redis-server nodes: %s\n", strings.Join(addrs, " "))
	}

	changes := &transitions{}
	p, err := policy.Default().With(policy.Observe(changes.observe))
	if err != nil {
		return err
	}
	rdb, err := hooks.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, DialTimeout: 250 * time.Millisecond}, p)
	if err != nil {
		return err
	}
	defer rdb.Close()
	defer cleanup(ctx, rdb)

	// 1. Keys spread over the nodes by hash slot.
	owner := map[string]string{} // key -> node address
	for i := range keys {
		if err := rdb.Set(ctx, key(i), i, time.Hour).Err(); err != nil {
			return err
		}
		node, err := rdb.MasterForKey(ctx, key(i))
		if err != nil {
			return err
		}
		owner[key(i)] = node.Options().Addr
	}
	nodes := sortedValues(owner)
	fmt.Fprintf(w, "1. %d keys written; per node: %s\n", keys, perNode(owner, nodes))

	// 2. An operator isolates one node: its keys fail fast with
	// CircuitOpen, the other nodes' keys are untouched.
	sick := nodes[0]
	brk := p.Breakers().Get(sick)
	brk.ForceOpen()
	res := readAll(ctx, rdb)
	fmt.Fprintf(w, "2. %s isolated by hand (ForceOpen): %s; breaker %s\n", sick, res.summary(owner, sick), changes.take(sick))
	brk.Release()
	res = readAll(ctx, rdb)
	fmt.Fprintf(w, "   released: %s; breaker %s\n", res.summary(owner, sick), changes.take(sick))

	if local == nil {
		fmt.Fprintln(w, "3. (a cluster this example did not start is not killed: skipped)")
		return nil
	}

	// 3. A node's process dies: its breaker opens after 5 failed calls in
	// a row (go-redis's own, such as a reload's CLUSTER SLOTS, count too),
	// and its keys fail in microseconds instead of each waiting on a
	// refused dial. The call that opened it got the node's own error,
	// Connection.
	proc := local.Nodes[slices.Index(local.Addrs(), sick)]
	proc.Stop()
	fmt.Fprintf(w, "3. %s killed\n", sick)
	res = readAll(ctx, rdb)
	fmt.Fprintf(w, "   %s; breaker %s\n", res.summary(owner, sick), changes.take(sick))
	res = readAll(ctx, rdb)
	fmt.Fprintf(w, "   again: %s\n", res.summary(owner, sick))

	// The node comes back (empty: nothing is persisted). Its breaker PINGs
	// it and closes on its own as soon as it answers; until the node has
	// rejoined the cluster its keys may fail with CLUSTERDOWN, which opens
	// the breaker again for a while.
	if err := proc.Start(ctx); err != nil {
		return err
	}
	restarted := time.Now()
	seen := map[string]int{} // what its keys got while it rejoined
	for brk.State() != breaker.Closed || res.failed > 0 {
		if time.Since(restarted) > 15*time.Second {
			return fmt.Errorf("the breaker of %s did not close: %v", sick, brk.State())
		}
		time.Sleep(100 * time.Millisecond)
		res = readAll(ctx, rdb)
		for k, l := range res.label {
			if owner[k] == sick && l != "OK" {
				seen[l]++
			}
		}
	}
	fmt.Fprintf(w, "   restarted; its keys until the breaker closed %.1fs later: %s; breaker %s\n",
		time.Since(restarted).Seconds(), counts(seen), changes.take(sick))
	fmt.Fprintf(w, "   recovered: %s (miss: the node came back empty)\n", res.summary(owner, sick))
	return nil
}

// result is what reading every key gave: per key "OK", "miss" (redis.Nil)
// or the class of the error, and the slowest call per label.
type result struct {
	label   map[string]string
	slowest map[string]time.Duration
	failed  int
}

// readAll GETs every key once, each under a 500 ms deadline.
func readAll(ctx context.Context, rdb *redis.ClusterClient) result {
	r := result{label: map[string]string{}, slowest: map[string]time.Duration{}}
	for i := range keys {
		cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		start := time.Now()
		err := rdb.Get(cctx, key(i)).Err()
		took := time.Since(start)
		cancel()
		l := retryable.Classify(err).String()
		switch {
		case err == redis.Nil:
			l = "miss"
		case err != nil:
			r.failed++
			r.slowest[l] = max(r.slowest[l], took)
		}
		r.label[key(i)] = l
	}
	return r
}

// summary says how the sick node's keys and the others' fared, for example
// "its keys CircuitOpen=12 (slowest 23µs); other keys OK=18".
func (r result) summary(owner map[string]string, sick string) string {
	part := func(onSick bool) string {
		n := map[string]int{}
		for k, l := range r.label {
			if (owner[k] == sick) == onSick {
				n[l]++
			}
		}
		s := counts(n)
		for l, d := range r.slowest {
			if n[l] > 0 {
				s = strings.Replace(s, l+"="+strconv.Itoa(n[l]), fmt.Sprintf("%s=%d (slowest %v)", l, n[l], roundDuration(d)), 1)
			}
		}
		return s
	}
	return "its keys " + part(true) + "; other keys " + part(false)
}

// counts renders label counts sorted, "CircuitOpen=11 Connection=1".
func counts(n map[string]int) string {
	var parts []string
	for l, c := range n {
		parts = append(parts, l+"="+strconv.Itoa(c))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// transitions records the breakers' state changes, per node. It is safe
// for concurrent use: breakers report from the goroutine of the call that
// changed them.
type transitions struct {
	mu     sync.Mutex
	states map[string][]string
}

func (t *transitions) observe(e policy.Event) {
	if e.Kind != policy.BreakerChanged {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.states == nil {
		t.states = map[string][]string{}
	}
	if len(t.states[e.Node]) == 0 {
		t.states[e.Node] = []string{e.From.String()}
	}
	t.states[e.Node] = append(t.states[e.Node], e.To.String())
}

// take returns the node's changes since the last take, for example
// "open -> (half-open -> open) x3 -> half-open -> closed", or "unchanged".
func (t *transitions) take(node string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	states := t.states[node]
	if len(states) == 0 {
		return "unchanged"
	}
	delete(t.states, node)
	var out []string
	for i := 0; i < len(states); i++ {
		// Compress runs of failed probes: half-open -> open, again and again.
		n := 0
		for i+2*n+2 < len(states) && states[i+2*n+1] == "half-open" && states[i+2*n+2] == "open" {
			n++
		}
		out = append(out, states[i])
		if n > 1 {
			out = append(out, fmt.Sprintf("(half-open -> open) x%d", n))
			i += 2 * n
		}
	}
	return strings.Join(out, " -> ")
}

func roundDuration(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(100 * time.Microsecond)
}

func sortedValues(m map[string]string) []string {
	var vs []string
	for _, v := range m {
		if !slices.Contains(vs, v) {
			vs = append(vs, v)
		}
	}
	slices.Sort(vs)
	return vs
}

func perNode(owner map[string]string, nodes []string) string {
	var parts []string
	for _, n := range nodes {
		c := 0
		for _, o := range owner {
			if o == n {
				c++
			}
		}
		parts = append(parts, fmt.Sprintf("%s=%d", n, c))
	}
	return strings.Join(parts, " ")
}

// cleanup deletes the example's keys, best effort: on a cluster the example
// did not start they would otherwise stay.
func cleanup(ctx context.Context, rdb *redis.ClusterClient) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	for i := range keys {
		_ = rdb.Del(policy.NoRetry(ctx), key(i)).Err()
	}
}
