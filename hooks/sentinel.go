package hooks

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// A Sentinel client's breaker is the one of the master it reaches
// (DialHook). After a failover, the dead master's breaker is open and
// refuses every call, so no call dials and DialHook does not see the new
// master until that breaker's next probe, up to MaxOpenTimeout later. The
// master watch closes that gap: while the breaker refuses calls, it asks
// the Sentinels which master they name, at most once per watchInterval,
// and switches the client to the named master's breaker as soon as they
// name a new one. It talks only to the Sentinels (as go-redis's failover
// dialer does before each dial), never to the dead master, and only while
// calls are refused; it dials only once the Sentinels name a new master.
type masterWatch struct {
	master    string
	sentinels []*redis.Options // one per Sentinel address, go-redis's own Sentinel options
	next      atomic.Int64     // unix nanoseconds before which no check starts
	busy      atomic.Bool      // a check is running

	// The Sentinel clients stay open while checks keep coming, and are
	// closed watchIdle after the last one: no connection is left open
	// once the breaker stops refusing, or the client is closed.
	mu      sync.Mutex
	clients []*redis.SentinelClient
	idle    *time.Timer
}

const (
	// watchInterval is how often, at most, the watch asks the Sentinels
	// while calls are refused.
	watchInterval = 50 * time.Millisecond
	// watchTimeout bounds one check, over all Sentinels.
	watchTimeout = 250 * time.Millisecond
	// watchIdle is how long the Sentinel connections stay open after
	// the last check.
	watchIdle = time.Second
)

// newMasterWatch returns the watch for a failover client built from opt.
func newMasterWatch(opt *redis.FailoverOptions) *masterWatch {
	if opt.MasterName == "" || len(opt.SentinelAddrs) == 0 {
		return nil
	}
	w := &masterWatch{master: opt.MasterName}
	for _, addr := range opt.SentinelAddrs {
		// As go-redis's failover client talks to a Sentinel, without its
		// retries: the next check is the retry.
		w.sentinels = append(w.sentinels, &redis.Options{
			Addr: addr, ClientName: opt.ClientName, Dialer: opt.Dialer, OnConnect: opt.OnConnect,
			Username: opt.SentinelUsername, Password: opt.SentinelPassword, TLSConfig: opt.TLSConfig,
			DialTimeout: opt.DialTimeout, ReadTimeout: opt.ReadTimeout, WriteTimeout: opt.WriteTimeout,
			MaxRetries: -1, DialerRetries: 1, ContextTimeoutEnabled: true, PoolSize: 1,
			ReadBufferSize: 4096, WriteBufferSize: 4096,
			MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
		})
	}
	return w
}

// poke starts a check unless one ran within watchInterval or is running.
// The hook calls it when the breaker of a Sentinel client's master
// refuses a call; it costs a clock read and two atomic operations.
func (w *masterWatch) poke(h *retryHook) {
	if w == nil {
		return
	}
	now := time.Now().UnixNano()
	n := w.next.Load()
	if now < n || !w.next.CompareAndSwap(n, now+int64(watchInterval)) || !w.busy.CompareAndSwap(false, true) {
		return
	}
	go w.check(h)
}

// check asks the Sentinels, in turn, which master they name. When they
// name another one than h's, it dials through the client's own dialer,
// which asks the Sentinel again, tells go-redis the master changed (so its
// pool drops the connections to the old one, as after go-redis's own
// +switch-master) and connects to the new master; h then takes the
// breaker of the address that connection reached, as DialHook does, and
// the connection is closed. A Sentinel that names masters by host name is
// left to the probes: its names never match the addresses connections
// reach, and dialing on every check would dial the old master too.
func (w *masterWatch) check(h *retryHook) {
	defer w.busy.Store(false)
	defer w.rest()
	ctx, cancel := context.WithTimeout(context.Background(), watchTimeout)
	defer cancel()
	for _, sc := range w.open() {
		named, err := ask(ctx, sc, w.master)
		if err != nil {
			continue
		}
		if ap, err := netip.ParseAddrPort(named); err != nil || !ap.IsValid() || named == h.cur.Load().name() {
			return
		}
		dial := h.client.Options().Dialer // go-redis's failover dialer
		if dial == nil {
			return
		}
		conn, err := dial(ctx, "tcp", named)
		if err != nil {
			return // the next check tries again
		}
		if node := conn.RemoteAddr().String(); node != h.cur.Load().name() {
			h.cur.Store(h.guardFor(node))
		}
		_ = conn.Close()
		return
	}
}

// open returns the Sentinel clients, made on the first check after an
// idle spell.
func (w *masterWatch) open() []*redis.SentinelClient {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.clients == nil {
		for _, o := range w.sentinels {
			oc := *o // go-redis fills in defaults in the options it is given
			w.clients = append(w.clients, redis.NewSentinelClient(&oc))
		}
	}
	return w.clients
}

// rest arms the timer that closes the Sentinel clients after watchIdle
// without a check.
func (w *masterWatch) rest() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.idle == nil {
		w.idle = time.AfterFunc(watchIdle, w.closeIdle)
	} else {
		w.idle.Reset(watchIdle)
	}
}

// closeIdle closes the Sentinel clients, unless a check is using them (it
// arms the timer again when it ends).
func (w *masterWatch) closeIdle() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.busy.Load() {
		return
	}
	for _, sc := range w.clients {
		_ = sc.Close()
	}
	w.clients = nil
}

// ask returns the master sc names for master.
func ask(ctx context.Context, sc *redis.SentinelClient, master string) (string, error) {
	r, err := sc.GetMasterAddrByName(ctx, master).Result()
	if err != nil {
		return "", err
	}
	if len(r) != 2 {
		return "", fmt.Errorf("hooks: SENTINEL GET-MASTER-ADDR-BY-NAME %s: %d fields, want 2", master, len(r))
	}
	return net.JoinHostPort(r[0], r[1]), nil
}
