package redistest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// clusterSlots is the number of hash slots of a Redis Cluster.
	clusterSlots = 16384
	// clusterTimeout bounds how long a cluster may take to form or heal.
	clusterTimeout = 30 * time.Second
	// queryTimeout bounds one query of the harness to one cluster node.
	queryTimeout = 2 * time.Second
)

// clusterConf is the config of every cluster node. The node timeout is
// short so that failover tests take seconds; replicas may always fail over
// and never migrate, so the topology only changes when a test changes it.
// Redis 7 leaves a replica out of CLUSTER SLOTS while its replication
// offset is 0, which on an idle master lasts until the first replication
// ping: a ping every second (not 10) lists replicas quickly.
var clusterConf = []string{
	"cluster-enabled yes",
	"cluster-config-file nodes.conf",
	"cluster-node-timeout 1000",
	"cluster-replica-validity-factor 0",
	"cluster-allow-replica-migration no",
	"repl-ping-replica-period 1",
}

// Cluster is a Redis Cluster of throwaway servers started by
// [StartCluster]. It is safe for concurrent use; methods that take a
// testing.TB, and those that fail the test that started the cluster
// (Masters, MasterFor, ReplicasOf), must be called on that test's goroutine.
type Cluster struct {
	tb    testing.TB
	nodes []*Server // the masters first, then the replicas, in start order
}

// slotRange is one contiguous range of slots and who serves it.
type slotRange struct {
	lo, hi   int
	master   *Server
	replicas []*Server
}

// StartCluster starts masters*(1+replicasPerMaster) cluster-enabled
// servers (cluster-node-timeout 1000, so a failover takes about 3 seconds;
// cluster-replica-validity-factor 0, cluster-allow-replica-migration no,
// repl-ping-replica-period 1), splits the 16384 slots evenly among the masters with CLUSTER
// ADDSLOTSRANGE, joins the nodes with CLUSTER MEET, attaches
// replicasPerMaster replicas to each master with CLUSTER REPLICATE, and
// waits until every node reports cluster_state:ok, all nodes agree on who
// serves which slot, and every replica is in sync. Failover needs a
// majority of masters: use at least 3 for failover tests.
func StartCluster(t testing.TB, masters, replicasPerMaster int) *Cluster {
	t.Helper()
	if masters < 1 || masters > 100 || replicasPerMaster < 0 || replicasPerMaster > 10 {
		t.Fatalf("redistest: StartCluster(%d masters, %d replicas each): want 1..100 masters and 0..10 replicas",
			masters, replicasPerMaster)
	}
	n := masters * (1 + replicasPerMaster)
	c := &Cluster{tb: t}
	for range n {
		c.nodes = append(c.nodes, Start(t, clusterConf...))
	}
	ids := make([]string, n)
	for i, s := range c.nodes {
		ids[i], _ = s.Do(t, "CLUSTER", "MYID").(string)
		// Distinct epochs up front spare the cluster its collision
		// resolution, as redis-cli --cluster create does.
		s.Do(t, "CLUSTER", "SET-CONFIG-EPOCH", i+1)
	}
	for i := range masters {
		lo, hi := i*clusterSlots/masters, (i+1)*clusterSlots/masters-1
		c.nodes[i].Do(t, "CLUSTER", "ADDSLOTSRANGE", lo, hi)
	}
	for _, s := range c.nodes[1:] {
		c.nodes[0].Do(t, "CLUSTER", "MEET", "127.0.0.1", s.Port())
	}
	c.await(t, "cluster nodes to meet", func(ctx context.Context) error {
		return c.checkMet(ctx, n)
	})
	for m := range masters {
		for r := range replicasPerMaster {
			c.nodes[masters+m*replicasPerMaster+r].Do(t, "CLUSTER", "REPLICATE", ids[m])
		}
	}
	c.await(t, "cluster to be ready", func(ctx context.Context) error {
		return c.checkHealthy(ctx, n, replicasPerMaster)
	})
	return c
}

// await polls check until it succeeds, failing the test with the last
// error and every live node's CLUSTER NODES after clusterTimeout.
func (c *Cluster) await(t testing.TB, what string, check func(context.Context) error) {
	t.Helper()
	var last error
	ok := Poll(clusterTimeout, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
		defer cancel()
		last = check(ctx)
		return last == nil
	})
	if !ok {
		t.Fatalf("redistest: waiting for %s: not done within %v: %v\n%s", what, clusterTimeout, last, c.dump())
	}
}

// dump renders every live node's CLUSTER NODES, for failure messages.
func (c *Cluster) dump() string {
	var b strings.Builder
	for _, s := range c.live() {
		ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
		v, err := s.do(ctx, "CLUSTER", "NODES")
		cancel()
		fmt.Fprintf(&b, "--- CLUSTER NODES on %s ---\n%v%v\n", s.Addr(), v, errString(err))
	}
	return b.String()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// live returns the nodes that run and are not frozen.
func (c *Cluster) live() []*Server {
	var l []*Server
	for _, s := range c.nodes {
		if s.Running() && !s.Frozen() {
			l = append(l, s)
		}
	}
	return l
}

// checkMet reports whether every node knows all n nodes, handshakes done.
func (c *Cluster) checkMet(ctx context.Context, n int) error {
	for _, s := range c.nodes {
		v, err := s.do(ctx, "CLUSTER", "NODES")
		if err != nil {
			return err
		}
		str, _ := v.(string)
		known := 0
		for line := range strings.SplitSeq(strings.TrimSpace(str), "\n") {
			f := strings.Fields(line)
			if len(f) < 3 || strings.Contains(f[2], "handshake") || strings.Contains(f[2], "noaddr") {
				continue
			}
			known++
		}
		if known != n {
			return fmt.Errorf("%s knows %d of %d nodes", s.Addr(), known, n)
		}
	}
	return nil
}

// checkHealthy reports whether every live node says cluster_state:ok and
// gives the same slot map, every slot's master is live, and every live
// replica is in sync. wantNodes and wantReplicas, when not negative, are
// also checked against cluster_known_nodes and each slot range's replicas.
func (c *Cluster) checkHealthy(ctx context.Context, wantNodes, wantReplicas int) error {
	live := c.live()
	if len(live) == 0 {
		return errors.New("no live node")
	}
	var first string
	for _, s := range live {
		v, err := s.do(ctx, "CLUSTER", "INFO")
		if err != nil {
			return err
		}
		str, _ := v.(string)
		info := parseInfo(str)
		if info["cluster_state"] != "ok" {
			return fmt.Errorf("%s: cluster_state:%s", s.Addr(), info["cluster_state"])
		}
		if wantNodes >= 0 && info["cluster_known_nodes"] != strconv.Itoa(wantNodes) {
			return fmt.Errorf("%s: cluster_known_nodes:%s, want %d", s.Addr(), info["cluster_known_nodes"], wantNodes)
		}
		ranges, err := c.slotsOf(ctx, s)
		if err != nil {
			return err
		}
		view := renderSlots(ranges)
		if first == "" {
			first = view
		} else if view != first {
			return fmt.Errorf("nodes disagree: %s sees %s, %s sees %s", live[0].Addr(), first, s.Addr(), view)
		}
		for _, r := range ranges {
			if !r.master.Running() || r.master.Frozen() {
				return fmt.Errorf("%s: slots %d-%d still served by %s, which is down", s.Addr(), r.lo, r.hi, r.master.Addr())
			}
			if wantReplicas >= 0 && len(r.replicas) != wantReplicas {
				return fmt.Errorf("%s: slots %d-%d have %d replicas, want %d", s.Addr(), r.lo, r.hi, len(r.replicas), wantReplicas)
			}
		}
		v, err = s.do(ctx, "INFO", "replication")
		if err != nil {
			return err
		}
		str, _ = v.(string)
		if repl := parseInfo(str); repl["role"] == "slave" && repl["master_link_status"] != "up" {
			return fmt.Errorf("%s: replica link to its master is %s", s.Addr(), repl["master_link_status"])
		}
	}
	return nil
}

// renderSlots renders a slot map by ports, for comparing views.
func renderSlots(ranges []slotRange) string {
	var b strings.Builder
	for _, r := range ranges {
		fmt.Fprintf(&b, "[%d-%d %d", r.lo, r.hi, r.master.Port())
		ports := make([]int, 0, len(r.replicas))
		for _, s := range r.replicas {
			ports = append(ports, s.Port())
		}
		slices.Sort(ports)
		for _, p := range ports {
			fmt.Fprintf(&b, " %d", p)
		}
		b.WriteString("]")
	}
	return b.String()
}

// slotsOf returns node s's view of the slot map (CLUSTER SLOTS), sorted by
// slot. Nodes it names that are not in c are an error.
func (c *Cluster) slotsOf(ctx context.Context, s *Server) ([]slotRange, error) {
	v, err := s.do(ctx, "CLUSTER", "SLOTS")
	if err != nil {
		return nil, err
	}
	entries, _ := v.([]any)
	ranges := make([]slotRange, 0, len(entries))
	for _, e := range entries {
		f, _ := e.([]any)
		if len(f) < 3 {
			return nil, fmt.Errorf("%s: bad CLUSTER SLOTS entry %v", s.Addr(), e)
		}
		lo, ok1 := f[0].(int64)
		hi, ok2 := f[1].(int64)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: bad CLUSTER SLOTS entry %v", s.Addr(), e)
		}
		r := slotRange{lo: int(lo), hi: int(hi)}
		for i, nf := range f[2:] {
			node, err := c.nodeOf(nf)
			if err != nil {
				return nil, fmt.Errorf("%s: CLUSTER SLOTS: %v", s.Addr(), err)
			}
			if i == 0 {
				r.master = node
			} else {
				r.replicas = append(r.replicas, node)
			}
		}
		ranges = append(ranges, r)
	}
	slices.SortFunc(ranges, func(a, b slotRange) int { return a.lo - b.lo })
	return ranges, nil
}

// nodeOf maps a CLUSTER SLOTS node entry [ip, port, id, ...] to its Server.
func (c *Cluster) nodeOf(entry any) (*Server, error) {
	f, _ := entry.([]any)
	if len(f) < 2 {
		return nil, fmt.Errorf("bad node entry %v", entry)
	}
	port, ok := f[1].(int64)
	if !ok {
		return nil, fmt.Errorf("bad node entry %v", entry)
	}
	for _, s := range c.nodes {
		if int64(s.Port()) == port {
			return s, nil
		}
	}
	return nil, fmt.Errorf("node on unknown port %d", port)
}

// view returns the slot map as seen by the first live node that answers,
// failing the cluster's test if none does.
func (c *Cluster) view() []slotRange {
	c.tb.Helper()
	var last error = errors.New("no live node")
	for _, s := range c.live() {
		ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
		ranges, err := c.slotsOf(ctx, s)
		cancel()
		if err == nil {
			return ranges
		}
		last = err
	}
	c.tb.Fatalf("redistest: no cluster node gave its slot map: %v", last)
	return nil
}

// WaitHealthy waits, for up to 30 seconds, until every live (running, not
// frozen) node reports cluster_state:ok, they all agree on the slot map,
// every slot is served by a live master and every live replica is in sync:
// use it after a failover or a Restart. It fails the test on timeout.
func (c *Cluster) WaitHealthy(t testing.TB) {
	t.Helper()
	c.await(t, "cluster to be healthy", func(ctx context.Context) error {
		return c.checkHealthy(ctx, -1, -1)
	})
}

// Nodes returns every server of the cluster in start order: the masters
// first, then the replicas of the first master, of the second, and so on.
// Roles change with failovers; Masters tells the current ones.
func (c *Cluster) Nodes() []*Server { return slices.Clone(c.nodes) }

// Addrs returns the addresses of all nodes, in the order of Nodes.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, s := range c.nodes {
		addrs[i] = s.Addr()
	}
	return addrs
}

// Masters returns the servers that currently serve slots, ordered by their
// lowest slot, as seen by a live node: right after StartCluster they are
// the first nodes of Nodes, and after a failover the promoted replica takes
// its old master's place. It fails the cluster's test if no node answers.
func (c *Cluster) Masters() []*Server {
	c.tb.Helper()
	var ms []*Server
	for _, r := range c.view() {
		if !slices.Contains(ms, r.master) {
			ms = append(ms, r.master)
		}
	}
	return ms
}

// ReplicasOf returns the live replicas of master as seen by a live node.
func (c *Cluster) ReplicasOf(master *Server) []*Server {
	c.tb.Helper()
	for _, r := range c.view() {
		if r.master == master {
			return r.replicas
		}
	}
	return nil
}

// MasterFor returns the master that serves key's slot ([Slot]) as seen by
// a live node, or nil if no master serves it. After a failover, call
// WaitHealthy first so that the nodes agree. It fails the cluster's test if
// no node answers.
func (c *Cluster) MasterFor(key string) *Server {
	c.tb.Helper()
	slot := Slot(key)
	for _, r := range c.view() {
		if r.lo <= slot && slot <= r.hi {
			return r.master
		}
	}
	return nil
}

// Client returns a go-redis cluster client seeded with every node's
// address, with go-redis's default options changed by opts. It is closed
// at t's cleanup.
func (c *Cluster) Client(t testing.TB, opts ...func(*redis.ClusterOptions)) *redis.ClusterClient {
	t.Helper()
	opt := &redis.ClusterOptions{Addrs: c.Addrs(), Password: c.nodes[0].password}
	for _, o := range opts {
		o(opt)
	}
	cc := redis.NewClusterClient(opt)
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}
