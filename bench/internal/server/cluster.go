package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// clusterArgs configure every cluster node. The node timeout (5 s) is
// longer than the freezes the benchmarks inflict, so a frozen master is
// never declared failed, and without full coverage the other masters keep
// serving their slots meanwhile.
var clusterArgs = []string{
	"--cluster-enabled", "yes",
	"--cluster-config-file", "nodes.conf",
	"--cluster-node-timeout", "5000",
	"--cluster-require-full-coverage", "no",
}

// Cluster is a Redis Cluster of masters only, each a Server, made by
// [LaunchCluster]. Its methods are safe for concurrent use.
type Cluster struct {
	masters []*Server
}

// LaunchCluster starts n cluster-enabled servers in subdirectories of dir,
// splits the 16384 slots evenly among them, joins them with CLUSTER MEET
// and waits until every node reports cluster_state:ok and knows all n
// nodes. The caller must Kill the cluster.
func LaunchCluster(dir string, n int, args ...string) (*Cluster, error) {
	if n < 1 || n > 16 {
		return nil, fmt.Errorf("server: LaunchCluster(%d): want 1 to 16 masters", n)
	}
	c := &Cluster{masters: make([]*Server, n)}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			d := filepath.Join(dir, "node"+strconv.Itoa(i))
			if errs[i] = os.MkdirAll(d, 0o700); errs[i] != nil {
				return
			}
			c.masters[i], errs[i] = Launch(d, append(append([]string{}, clusterArgs...), args...)...)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.Kill()
		return nil, err
	}
	if err := c.form(); err != nil {
		c.Kill()
		return nil, err
	}
	return c, nil
}

// form assigns the slots, makes the nodes meet and waits for the cluster.
func (c *Cluster) form() error {
	n := len(c.masters)
	for i, s := range c.masters {
		// Distinct epochs up front spare the cluster its collision
		// resolution.
		if _, err := s.Do("CLUSTER", "SET-CONFIG-EPOCH", strconv.Itoa(i+1)); err != nil {
			return err
		}
		lo, hi := i*clusterSlots/n, (i+1)*clusterSlots/n-1
		if _, err := s.Do("CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(lo), strconv.Itoa(hi)); err != nil {
			return err
		}
	}
	for _, s := range c.masters[1:] {
		if _, err := c.masters[0].Do("CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(s.Port())); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server: cluster not ready after 30 s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// check reports why the cluster is not ready yet, or nil.
func (c *Cluster) check() error {
	for _, s := range c.masters {
		info, err := s.Do("CLUSTER", "INFO")
		if err != nil {
			return err
		}
		m := ParseInfo(fmt.Sprint(info))
		if m["cluster_state"] != "ok" || m["cluster_known_nodes"] != strconv.Itoa(len(c.masters)) ||
			m["cluster_slots_assigned"] != strconv.Itoa(clusterSlots) {
			return fmt.Errorf("%s: cluster_state:%s, cluster_known_nodes:%s, cluster_slots_assigned:%s",
				s.Addr(), m["cluster_state"], m["cluster_known_nodes"], m["cluster_slots_assigned"])
		}
		nodes, err := s.Do("CLUSTER", "NODES")
		if err != nil {
			return err
		}
		if str := fmt.Sprint(nodes); strings.Contains(str, "handshake") || strings.Contains(str, "noaddr") {
			return fmt.Errorf("%s: handshakes under way", s.Addr())
		}
	}
	return nil
}

// Masters returns the servers, in the order of their slot ranges.
func (c *Cluster) Masters() []*Server { return append([]*Server(nil), c.masters...) }

// Addrs returns the masters' addresses, in the order of Masters.
func (c *Cluster) Addrs() []string {
	a := make([]string, len(c.masters))
	for i, s := range c.masters {
		a[i] = s.Addr()
	}
	return a
}

// Kill kills every node.
func (c *Cluster) Kill() {
	for _, s := range c.masters {
		if s != nil {
			s.Kill()
		}
	}
}
