package hooks

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/policy"
)

// InstallOption relaxes a check of [Install].
type InstallOption func(*installConfig)

type installConfig struct {
	layering       bool
	noContextLimit bool
}

// AllowBuiltinRetries lets [Install] add the policy to a client whose own
// go-redis retries are on. The two loops then multiply: with MaxRetries 3
// and a policy of 3 attempts a command can be sent 12 times, and go-redis's
// loop retries an INCR after a lost reply. Prefer a client built with
// MaxRetries: -1.
func AllowBuiltinRetries() InstallOption {
	return func(c *installConfig) { c.layering = true }
}

// AllowNoContextTimeout lets [Install] add the policy to a client whose
// ContextTimeoutEnabled is false. go-redis then ignores the context's
// deadline on socket reads, so a call to a frozen server returns after the
// client's ReadTimeout, whatever deadline the caller set.
func AllowNoContextTimeout() InstallOption {
	return func(c *installConfig) { c.noContextLimit = true }
}

// Install adds p to an existing client: a *redis.Client (plain or Sentinel
// failover), a *redis.ClusterClient or a *redis.Ring. The retry loop runs at
// the client's top level; each node gets the policy's breaker (for a cluster
// or ring, nodes added later too).
//
// It refuses, with an error that says what to change, a client whose own
// retries are on (MaxRetries not -1, or DialerRetries above 1) unless
// [AllowBuiltinRetries] is given,
// and one with ContextTimeoutEnabled false unless [AllowNoContextTimeout] is.
// Install the policy once per client: a second Install stacks a second loop.
func Install(rdb redis.UniversalClient, p policy.Policy, opts ...InstallOption) error {
	var cfg installConfig
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	switch c := rdb.(type) {
	case *redis.Client:
		o := c.Options()
		if err := check(cfg, "Options", o.MaxRetries, o.DialerRetries, o.ContextTimeoutEnabled); err != nil {
			return err
		}
		installClient(c, p)
	case *redis.ClusterClient:
		o := c.Options()
		if err := check(cfg, "ClusterOptions", o.MaxRetries, o.DialerRetries, o.ContextTimeoutEnabled); err != nil {
			return err
		}
		installCluster(c, p)
		return nil
	case *redis.Ring:
		o := c.Options()
		if err := check(cfg, "RingOptions", o.MaxRetries, o.DialerRetries, o.ContextTimeoutEnabled); err != nil {
			return err
		}
		installRing(c, p)
	case nil:
		return errors.New("hooks: Install: nil client")
	default:
		return fmt.Errorf("hooks: Install: unsupported client type %T", rdb)
	}
	return nil
}

// check refuses settings that defeat the policy. The values are those
// after go-redis applied its defaults: MaxRetries 0 means its command
// retries are off, DialerRetries 1 means one dial per connection attempt.
func check(cfg installConfig, what string, maxRetries, dialerRetries int, ctxTimeout bool) error {
	if maxRetries > 0 && !cfg.layering {
		return fmt.Errorf("hooks: Install: the client's own retries are on (%s.MaxRetries is %d): "+
			"build it with MaxRetries: -1, or use a hooks.New* constructor, or pass hooks.AllowBuiltinRetries() to layer both loops",
			what, maxRetries)
	}
	if dialerRetries > 1 && !cfg.layering {
		return fmt.Errorf("hooks: Install: the client retries failed dials itself (%s.DialerRetries is %d, 100ms apart by default): "+
			"build it with DialerRetries: 1, or use a hooks.New* constructor, or pass hooks.AllowBuiltinRetries()",
			what, dialerRetries)
	}
	if !ctxTimeout && !cfg.noContextLimit {
		return fmt.Errorf("hooks: Install: %s.ContextTimeoutEnabled is false, so go-redis ignores context deadlines on socket reads: "+
			"set it to true, or use a hooks.New* constructor, or pass hooks.AllowNoContextTimeout()", what)
	}
	return nil
}

func installClient(c *redis.Client, p policy.Policy) {
	c.AddHook(clientHook(c, p))
}

func clientHook(c *redis.Client, p policy.Policy) *retryHook {
	node, failover := c.Options().Addr, false
	if node == "FailoverClient" {
		// Until it reaches a master, a Sentinel client's node is unknown.
		node, failover = "sentinel", true
	}
	return newClientHook(p, c, node, failover)
}

// installFailover installs p on a client that NewFailoverClient made
// from opt, with the master watch (sentinel.go), which needs the
// Sentinels' addresses that the client does not expose.
func installFailover(c *redis.Client, p policy.Policy, opt *redis.FailoverOptions) {
	h := clientHook(c, p)
	h.watch = newMasterWatch(opt)
	c.AddHook(h)
}

func installCluster(c *redis.ClusterClient, p policy.Policy) {
	h := newClusterHook(p, c)
	c.AddHook(h)
	// Every node gets a hook, breaker or not: go-redis's cluster loops
	// retry failures whatever MaxRetries says, and only the node hook can
	// keep them from repeating a command (node.go).
	eachNode(p, h.inFlight, true, c.OnNewNode, c.ForEachShard)
}

func installRing(c *redis.Ring, p policy.Policy) {
	h := newRingHook(p)
	c.AddHook(h)
	eachNode(p, h.inFlight, false, c.OnNewNode, c.ForEachShard)
}

// eachNode adds a node hook to every node client, those that exist and
// those made later, once per client.
func eachNode(p policy.Policy, f *inFlight, cluster bool, onNew func(func(*redis.Client)),
	forEach func(context.Context, func(context.Context, *redis.Client) error) error) {
	eng := engineOf(p)
	var seen sync.Map
	add := func(n *redis.Client) {
		if _, dup := seen.LoadOrStore(n, struct{}{}); dup {
			return
		}
		addr := n.Options().Addr
		n.AddHook(newNodeHook(eng, newGuard(addr, eng.Breakers.Get(addr), n), f, cluster))
	}
	onNew(add)
	_ = forEach(context.Background(), func(_ context.Context, n *redis.Client) error {
		add(n)
		return nil
	})
}

// NewClient returns a client for opt with p installed. It copies opt and
// sets MaxRetries to -1 and DialerRetries to 1 (the policy retries instead:
// go-redis would otherwise dial up to 5 times, 100 ms apart, inside every
// attempt) and ContextTimeoutEnabled to true (so deadlines reach the
// socket).
func NewClient(opt *redis.Options, p policy.Policy) (*redis.Client, error) {
	return construct("NewClient", opt, nil, redis.NewClient, func(c *redis.Client) { installClient(c, p) },
		func(o *redis.Options) (*int, *int, *bool) {
			return &o.MaxRetries, &o.DialerRetries, &o.ContextTimeoutEnabled
		})
}

// NewFailoverClient returns a Sentinel-backed client with p installed, its
// own retries off and context deadlines on. Its breaker is the one of the
// master it is connected to, keyed by the master's address: after a
// failover the new master has a breaker of its own, which the old master's
// open one does not hold back. While that breaker refuses calls, the
// client asks the Sentinels (at most every 50 ms, never the master) which
// master they name, and moves to the new one as soon as they name it.
func NewFailoverClient(opt *redis.FailoverOptions, p policy.Policy) (*redis.Client, error) {
	return construct("NewFailoverClient", opt, func(o *redis.FailoverOptions) bool { return o.MasterName != "" },
		redis.NewFailoverClient, func(c *redis.Client) { installFailover(c, p, opt) },
		func(o *redis.FailoverOptions) (*int, *int, *bool) {
			return &o.MaxRetries, &o.DialerRetries, &o.ContextTimeoutEnabled
		})
}

// NewClusterClient returns a cluster client with p installed: the retry
// loop runs at the cluster level, so a retry can reach the new master after
// a failover, and each node, including nodes discovered later, has its own
// breaker. go-redis keeps following MOVED and ASK (MaxRedirects), which
// never count as failures; node retries are off and context deadlines on.
func NewClusterClient(opt *redis.ClusterOptions, p policy.Policy) (*redis.ClusterClient, error) {
	return construct("NewClusterClient", opt, func(o *redis.ClusterOptions) bool { return len(o.Addrs) > 0 || o.ClusterSlots != nil },
		redis.NewClusterClient, func(c *redis.ClusterClient) { installCluster(c, p) },
		func(o *redis.ClusterOptions) (*int, *int, *bool) {
			return &o.MaxRetries, &o.DialerRetries, &o.ContextTimeoutEnabled
		})
}

// NewRing returns a ring with p installed: the retry loop runs at the ring
// level and each shard has its own breaker.
func NewRing(opt *redis.RingOptions, p policy.Policy) (*redis.Ring, error) {
	return construct("NewRing", opt, func(o *redis.RingOptions) bool { return len(o.Addrs) > 0 || o.NewConsistentHash != nil },
		redis.NewRing, func(c *redis.Ring) { installRing(c, p) },
		func(o *redis.RingOptions) (*int, *int, *bool) {
			return &o.MaxRetries, &o.DialerRetries, &o.ContextTimeoutEnabled
		})
}

// construct checks opt (valid says whether it names a server to reach;
// nil accepts any), hands retries over to the policy in a copy of it (the
// settings fields returns), makes the client and installs the policy.
func construct[O, C any](name string, opt *O, valid func(*O) bool, newClient func(*O) C, install func(C),
	settings func(*O) (maxRetries, dialerRetries *int, contextTimeout *bool)) (C, error) {
	var zero C
	switch {
	case opt == nil:
		return zero, fmt.Errorf("hooks: %s: nil options", name)
	case valid != nil && !valid(opt):
		return zero, fmt.Errorf("hooks: %s: the options name no server (Addrs, MasterName, ClusterSlots or NewConsistentHash)", name)
	}
	o := *opt
	handOver(settings(&o))
	c := newClient(&o)
	install(c)
	return c, nil
}

// NewUniversalClient picks the client kind as redis.NewUniversalClient does
// (failover when MasterName is set, cluster for several addresses or
// IsClusterMode, else a plain client) and returns it with p installed.
func NewUniversalClient(opt *redis.UniversalOptions, p policy.Policy) (redis.UniversalClient, error) {
	if opt == nil {
		return nil, errors.New("hooks: NewUniversalClient: nil options")
	}
	o := *opt
	handOver(&o.MaxRetries, &o.DialerRetries, &o.ContextTimeoutEnabled)
	switch {
	case o.MasterName != "" && (o.RouteByLatency || o.RouteRandomly || o.IsClusterMode):
		c := redis.NewFailoverClusterClient(o.Failover())
		installCluster(c, p)
		return c, nil
	case o.MasterName != "":
		return NewFailoverClient(o.Failover(), p)
	case len(o.Addrs) > 1 || o.IsClusterMode:
		return NewClusterClient(o.Cluster(), p)
	default:
		return NewClient(o.Simple(), p)
	}
}

// handOver sets, in a copy of a client's options, what the constructors
// promise: go-redis's command retries off (MaxRetries -1), one dial per
// connection attempt (DialerRetries 1), so that the policy's loop is the
// only one, and context deadlines applied to socket reads.
func handOver(maxRetries, dialerRetries *int, contextTimeout *bool) {
	*maxRetries, *dialerRetries, *contextTimeout = -1, 1, true
}
