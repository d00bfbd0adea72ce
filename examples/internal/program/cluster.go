package program

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a local Redis Cluster of throwaway redis-server processes, one
// master per process and no replicas. Each node serves its slots alone, so
// a stopped node takes only its own keys away: the nodes run with
// cluster-require-full-coverage off, and the others keep serving theirs.
// Its methods are safe for concurrent use, as are its nodes'.
type Cluster struct {
	// Nodes are the masters, in slot order: Nodes[0] serves the lowest.
	Nodes []*Proc
}

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// StartCluster starts n cluster-enabled redis-server processes from PATH
// on free loopback ports, gives each an equal range of the slots (CLUSTER
// ADDSLOTSRANGE), joins them (CLUSTER MEET) and waits until every node
// reports cluster_state:ok and knows all n masters. It returns ErrNoServer
// when PATH has no redis-server. Close stops every node.
func StartCluster(ctx context.Context, n int) (*Cluster, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNoServer
	}
	c := &Cluster{}
	for range n {
		p, err := StartProcess(ctx, bin,
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "1000",
			"--cluster-require-full-coverage", "no",
		)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.Nodes = append(c.Nodes, p)
	}
	if err := c.form(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("form a cluster of %d nodes: %w", n, err)
	}
	return c, nil
}

// Addrs returns the nodes' addresses, in the order of Nodes.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, p := range c.Nodes {
		addrs[i] = p.Addr()
	}
	return addrs
}

// Close stops every node and removes their directories.
func (c *Cluster) Close() {
	for _, p := range c.Nodes {
		p.Close()
	}
}

func (c *Cluster) form(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	clients := make([]*redis.Client, len(c.Nodes))
	for i, p := range c.Nodes {
		clients[i] = redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1, DisableIdentity: true})
		defer clients[i].Close()
	}
	per := clusterSlots / len(c.Nodes)
	for i, rdb := range clients {
		lo, hi := i*per, (i+1)*per-1
		if i == len(clients)-1 {
			hi = clusterSlots - 1
		}
		if err := rdb.ClusterAddSlotsRange(ctx, lo, hi).Err(); err != nil {
			return fmt.Errorf("CLUSTER ADDSLOTSRANGE %d %d on %s: %w", lo, hi, c.Nodes[i].Addr(), err)
		}
		// Distinct epochs spare the nodes their collision resolution.
		if err := rdb.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
			return fmt.Errorf("CLUSTER SET-CONFIG-EPOCH on %s: %w", c.Nodes[i].Addr(), err)
		}
	}
	for i, rdb := range clients[1:] {
		if err := rdb.ClusterMeet(ctx, "127.0.0.1", fmt.Sprint(c.Nodes[0].port)).Err(); err != nil {
			return fmt.Errorf("CLUSTER MEET from %s: %w", c.Nodes[i+1].Addr(), err)
		}
	}
	return c.wait(ctx, clients)
}

// wait polls until every node says cluster_state:ok and lists every
// master in CLUSTER SHARDS.
func (c *Cluster) wait(ctx context.Context, clients []*redis.Client) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := c.ready(ctx, clients)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last check: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

func (c *Cluster) ready(ctx context.Context, clients []*redis.Client) error {
	for i, rdb := range clients {
		info, err := rdb.ClusterInfo(ctx).Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return fmt.Errorf("%s: cluster_state is not ok yet", c.Nodes[i].Addr())
		}
		shards, err := rdb.ClusterShards(ctx).Result()
		if err != nil {
			return err
		}
		if len(shards) != len(clients) {
			return fmt.Errorf("%s knows %d of %d masters", c.Nodes[i].Addr(), len(shards), len(clients))
		}
	}
	return nil
}
