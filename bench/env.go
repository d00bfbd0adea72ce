package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/go-retryable/retryable/bench/internal/server"
)

// envKind is the shape of the servers a fault needs.
type envKind int

const (
	direct   envKind = iota // one server, clients connect to it
	proxied                 // one server behind a Toxiproxy proxy
	failover                // a master and its replica behind a proxy that plays the virtual IP
	cluster                 // three masters
)

// env is the servers of one contender in one fault: every contender has
// its own, so that server-side counts and keys are its own and one
// contender's retries do not load another's server.
type env struct {
	dir     string
	servers []*counter // every server the contender's traffic can reach
	primary *server.Server
	replica *server.Server // failover: promoted during the fault
	proxy   *toxiproxy.Proxy
	cluster *server.Cluster
	target  target
}

// counter follows the GET and INCR commands one server received from
// clients, and the error replies it sent.
type counter struct {
	srv *server.Server
	// replica is set while the server is a replica: Redis counts the
	// commands a replica applies from its master as calls, so then only
	// its GETs and rejected INCRs come from clients.
	replica bool
	base    stats // the process's raw counts at the last mark, switch or start
	acc     stats // what was banked since the mark: "cmd" and "err:PREFIX"
}

// stats are counts by name: raw ones from INFO ("get", "incr",
// "incr_rejected", "err:PREFIX"), or banked ones ("cmd", "err:PREFIX").
type stats map[string]int64

func (s stats) add(o stats, sign int64) stats {
	out := stats{}
	for k, v := range s {
		out[k] = v
	}
	for k, v := range o {
		out[k] += sign * v
	}
	return out
}

// count returns the raw counts of the server's current process. The
// harness's own commands (INFO, CLUSTER, REPLICAOF) are not GET or INCR,
// and a restart's AOF reload is not counted by Redis.
func (c *counter) count() (stats, error) {
	v, err := c.srv.Do("INFO", "commandstats")
	if err != nil {
		return nil, err
	}
	cmds := server.ParseInfo(fmt.Sprint(v))
	v, err = c.srv.Do("INFO", "errorstats")
	if err != nil {
		return nil, err
	}
	st := stats{}
	for _, cmd := range []string{"get", "incr"} {
		for field := range strings.SplitSeq(cmds["cmdstat_"+cmd], ",") {
			k, v, _ := strings.Cut(field, "=")
			name := cmd
			switch k {
			case "calls":
			case "rejected_calls":
				name = cmd + "_rejected"
			default:
				continue
			}
			x, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s cmdstat_%s: %v", c.srv.Addr(), cmd, err)
			}
			st[name] += x
		}
	}
	for k, v := range server.ParseInfo(fmt.Sprint(v)) {
		prefix, ok := strings.CutPrefix(k, "errorstat_")
		if n, found := strings.CutPrefix(v, "count="); ok && found {
			x, err := strconv.ParseInt(n, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %v", c.srv.Addr(), k, err)
			}
			st["err:"+prefix] = x
		}
	}
	return st, nil
}

// banked turns raw counts into banked ones, by the server's role.
func (c *counter) banked(d stats) stats {
	out := stats{"cmd": d["get"] + d["get_rejected"] + d["incr_rejected"]}
	if !c.replica {
		out["cmd"] += d["incr"]
	}
	for k, v := range d {
		if strings.HasPrefix(k, "err:") {
			out[k] = v
		}
	}
	return out
}

// mark starts counting from now.
func (c *counter) mark() error {
	st, err := c.count()
	c.base, c.acc = st, stats{}
	return err
}

// bank adds what the process counted since base, and returns its counts.
func (c *counter) bank() stats {
	st, err := c.count()
	if err != nil {
		return c.base
	}
	c.acc = c.acc.add(c.banked(st.add(c.base, -1)), 1)
	return st
}

// becomeReplica (or, false, becomeMaster) records a change of the
// server's role: what it counted so far is banked under the old role.
// Call it after the change: commands in between are counted under the old
// role (for a promotion, they are the last replicated ones; for a
// demotion, the old master is loading the new master's data meanwhile).
func (c *counter) becomeReplica(replica bool) {
	c.base = c.bank()
	c.replica = replica
}

// beforeKill banks the counts of the process about to be killed; its
// successor counts from zero. Commands that arrive between the two are
// lost to the count (a few microseconds).
func (c *counter) beforeKill() {
	c.bank()
	c.base = stats{}
}

// total returns what the server counted since mark: "cmd" and the error
// replies.
func (c *counter) total() (stats, error) {
	st, err := c.count()
	if err != nil {
		return nil, err
	}
	return c.acc.add(c.banked(st.add(c.base, -1)), 1), nil
}

// toxi is the in-process Toxiproxy server.
type toxi struct{ api *toxiproxy.ApiServer }

func newToxi() *toxi {
	return &toxi{api: toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())}
}

// proxy starts a proxy from a free loopback port to upstream.
func (t *toxi) proxy(name, upstream string) (*toxiproxy.Proxy, error) {
	p := toxiproxy.NewProxy(t.api, name, "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("toxiproxy %s: %v", name, err)
	}
	return p, nil
}

// envSpec says how to build the env of a fault.
type envSpec struct {
	kind envKind
	args []string // extra redis-server arguments (direct, proxied)
	// populate is the number of keys the failover master is filled with,
	// so that the demoted master's resync takes a while (LOADING).
	populate int
}

// newEnv builds the servers of spec in a new directory under root.
func newEnv(tx *toxi, root, name string, spec envSpec) (*env, error) {
	e := &env{dir: filepath.Join(root, name)}
	if err := os.MkdirAll(e.dir, 0o700); err != nil {
		return nil, err
	}
	if err := e.build(tx, name, spec); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func (e *env) build(tx *toxi, name string, spec envSpec) error {
	launch := func(sub string, args ...string) (*server.Server, error) {
		d := filepath.Join(e.dir, sub)
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
		s, err := server.Launch(d, args...)
		if err == nil {
			e.servers = append(e.servers, &counter{srv: s})
		}
		return s, err
	}
	var err error
	switch spec.kind {
	case direct, proxied:
		if e.primary, err = launch("server", spec.args...); err != nil {
			return err
		}
		e.target = target{Addrs: []string{e.primary.Addr()}}
		if spec.kind == proxied {
			if e.proxy, err = tx.proxy(name, e.primary.Addr()); err != nil {
				return err
			}
			e.target = target{Addrs: []string{e.proxy.Listen}}
		}
	case failover:
		repl := []string{"--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes"}
		if e.primary, err = launch("master", repl...); err != nil {
			return err
		}
		if spec.populate > 0 {
			if _, err := e.primary.Do("DEBUG", "POPULATE", strconv.Itoa(spec.populate), "bench:pop", "64"); err != nil {
				return err
			}
		}
		if e.replica, err = launch("replica", append(repl, "--replicaof", "127.0.0.1", strconv.Itoa(e.primary.Port()))...); err != nil {
			return err
		}
		e.counterOf(e.replica).replica = true
		if err := waitSynced(e.replica); err != nil {
			return err
		}
		if e.proxy, err = tx.proxy(name, e.primary.Addr()); err != nil {
			return err
		}
		e.target = target{Addrs: []string{e.proxy.Listen}}
	case cluster:
		if e.cluster, err = server.LaunchCluster(filepath.Join(e.dir, "cluster"), 3); err != nil {
			return err
		}
		for _, s := range e.cluster.Masters() {
			e.servers = append(e.servers, &counter{srv: s})
		}
		e.target = target{Addrs: e.cluster.Addrs(), Cluster: true}
	}
	return nil
}

// waitSynced waits until replica is in sync with its master.
func waitSynced(replica *server.Server) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		info, err := replica.Info("replication")
		if err == nil && info["master_link_status"] == "up" && info["master_sync_in_progress"] == "0" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("replica %s not in sync after 60 s: %v %v", replica.Addr(), info, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mark starts every server's count.
func (e *env) mark() error {
	var errs []error
	for _, c := range e.servers {
		errs = append(errs, c.mark())
	}
	return errors.Join(errs...)
}

// received returns the GET and INCR commands e's servers received since
// mark, and their error replies by prefix.
func (e *env) received() (int64, map[string]int64, error) {
	sum := stats{}
	for _, c := range e.servers {
		st, err := c.total()
		if err != nil {
			return 0, nil, err
		}
		sum = sum.add(st, 1)
	}
	errs := map[string]int64{}
	for k, v := range sum {
		if p, ok := strings.CutPrefix(k, "err:"); ok && v > 0 {
			errs[p] = v
		}
	}
	return sum["cmd"], errs, nil
}

// counterOf returns the counter of s.
func (e *env) counterOf(s *server.Server) *counter {
	for _, c := range e.servers {
		if c.srv == s {
			return c
		}
	}
	return nil
}

// incrCounts reads INCR keys prefix:0 .. prefix:n-1 from whichever server
// now owns them and returns their values (0 for a missing key).
func (e *env) incrCounts(ctx context.Context, prefix string, n int) ([]int64, error) {
	var rdb redis.UniversalClient
	switch {
	case e.cluster != nil:
		rdb = redis.NewClusterClient(&redis.ClusterOptions{Addrs: e.cluster.Addrs()})
	case e.replica != nil:
		// After the failover the replica is the master.
		rdb = redis.NewClient(&redis.Options{Addr: e.replica.Addr()})
	default:
		rdb = redis.NewClient(&redis.Options{Addr: e.primary.Addr()})
	}
	defer rdb.Close()
	out := make([]int64, n)
	const batch = 1000
	for lo := 0; lo < n; lo += batch {
		hi := min(n, lo+batch)
		cmds := make([]*redis.StringCmd, 0, hi-lo)
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := lo; i < hi; i++ {
				cmds = append(cmds, p.Get(ctx, prefix+":"+strconv.Itoa(i)))
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, err
		}
		for j, c := range cmds {
			v, err := c.Int64()
			if err != nil && !errors.Is(err, redis.Nil) {
				return nil, fmt.Errorf("GET %s: %v", c.Args()[1], err)
			}
			out[lo+j] = v
		}
	}
	return out, nil
}

// close stops e's proxy and servers and removes its directory.
func (e *env) close() {
	if e.proxy != nil {
		e.proxy.Stop()
	}
	var wg sync.WaitGroup
	for _, c := range e.servers {
		wg.Go(c.srv.Kill)
	}
	wg.Wait()
	_ = os.RemoveAll(e.dir)
}
