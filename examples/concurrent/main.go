// Command concurrent runs many goroutines through one policy with
// errgroup, the Go counterpart of redis-py's async error handling.
//
// In redis-py:
//
//	async def get_with_fallback(key):
//	    r = await redis.from_url("redis://localhost")
//	    try:
//	        return await r.get(key)
//	    except redis.ConnectionError:
//	        logger.warning("Cache unavailable")
//	        return await database.get(key)
//	    finally:
//	        await r.close()
//
// In Go the concurrency is goroutines, and one client with one policy
// serves them all: the policy is immutable, its breakers and budget are
// safe for concurrent use, and the fallback to the database is declared
// once. What asyncio leaves to the caller, the context carries: a deadline
// per call, which the policy never sleeps past, and cancellation, which it
// never retries. The program runs three batches:
//
//  1. lookups from 16 goroutines at a time, each under its own deadline;
//  2. the same with a bug in one job: errgroup cancels the others, whose
//     calls end with context.Canceled, not retried, no fallback;
//  3. lookups against a server that accepts connections and never answers
//     (a frozen Redis): every call returns at its deadline, the fallback
//     answers, and once five calls in a row have failed the node's breaker
//     opens and the calls stop waiting;
//  4. the frozen server thaws (it answers again, as a Redis sent SIGCONT
//     does): the breaker, which PINGs the node itself while it is open,
//     closes on its own, and the lookups are answered by Redis again.
//
// It uses the Redis at REDIS_ADDR, else a throwaway redis-server from PATH,
// else an in-process miniredis; the frozen server is in-process:
//
//	go run ./examples/concurrent
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/examples/internal/program"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/policy"
)

func main() { program.Main("concurrent", run) }

const (
	lookups  = 200
	parallel = 16
	deadline = 100 * time.Millisecond // per call
	prefix   = "retryable-concurrent:"
)

// database is the authoritative store behind the cache; it is read-only.
type database map[string]string

func newDatabase() database {
	db := database{}
	for i := range 20 {
		db[userKey(i)] = "user " + strconv.Itoa(i)
	}
	return db
}

func userKey(i int) string { return prefix + "user:" + strconv.Itoa(i%20) }

// fallback answers a failed GET from the database: get_with_fallback's
// except clause, declared once in the policy.
func (db database) fallback(_ context.Context, cmd policy.Cmd, err error) error {
	get, ok := cmd.(*redis.StringCmd)
	if !ok {
		return err
	}
	key, _ := cmd.Args()[1].(string)
	get.SetVal(db[key])
	return nil
}

// counts is what the policy reported, by kind and class. It is safe for
// concurrent use.
type counts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counts) observe(e policy.Event) {
	what := e.Kind.String() + " (" + e.Class.String() + ")"
	if e.Kind == policy.BreakerChanged {
		what = "breaker " + e.From.String() + " -> " + e.To.String()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[what]++
}

// take returns the counts so far, for example "fallback used (Timeout)
// 8, refused (CircuitOpen) 32", or "nothing", and starts again from zero.
func (c *counts) take() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	for what, n := range c.n {
		parts = append(parts, what+" "+strconv.Itoa(n))
	}
	c.n = map[string]int{}
	if len(parts) == 0 {
		return "nothing"
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

func run(ctx context.Context, w io.Writer) error {
	srv, err := program.Redis(ctx)
	if err != nil {
		return err
	}
	defer srv.Close()
	frozen, err := startFrozen()
	if err != nil {
		return err
	}
	defer frozen.Close()
	fmt.Fprintf(w, "Redis: %s at %s; a frozen server at %s\n", srv.Kind, srv.Addr, frozen.Addr())

	db := newDatabase()
	seen := &counts{n: map[string]int{}}
	p, err := policy.Default().With(
		policy.Command([]string{"get"}, policy.Fallback(db.fallback)),
		policy.Observe(seen.observe),
	)
	if err != nil {
		return err
	}
	// One policy, two clients: each node gets its own breaker.
	rdb, err := hooks.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: parallel}, p)
	if err != nil {
		return err
	}
	defer rdb.Close()
	defer rdb.Del(context.WithoutCancel(ctx), keys()...)
	stuck, err := hooks.NewClient(&redis.Options{Addr: frozen.Addr(), PoolSize: parallel}, p)
	if err != nil {
		return err
	}
	defer stuck.Close()

	// getUser is the application's read: the cache, then the database on a
	// miss. Outages are the policy's business.
	getUser := func(ctx context.Context, rdb *redis.Client, key string) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, deadline)
		defer cancel()
		v, err := rdb.Get(ctx, key).Result()
		if err == redis.Nil {
			v = db[key]
			err = rdb.Set(ctx, key, v, time.Minute).Err()
		}
		return v, err
	}

	// 1. Many lookups, 16 at a time.
	var slowest atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for i := range lookups {
		g.Go(func() error {
			start := time.Now()
			v, err := getUser(gctx, rdb, userKey(i))
			maxInto(&slowest, time.Since(start))
			if err == nil && v != db[userKey(i)] {
				err = fmt.Errorf("%s = %q, want %q", userKey(i), v, db[userKey(i)])
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	fmt.Fprintf(w, "1. %d lookups, %d goroutines at a time, one policy: all answered, none slower than its %v deadline (slowest %v)\n",
		lookups, parallel, deadline, roundMs(slowest.Load()))
	fmt.Fprintf(w, "   what the policy did: %s\n", seen.take())

	// 2. A bug in one job cancels the rest.
	if err := rdb.LPush(ctx, prefix+"list", "x").Err(); err != nil {
		return err
	}
	var canceled, done atomic.Int64
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i := range lookups {
		key := userKey(i)
		if i == 20 {
			key = prefix + "list" // GET on a list: WRONGTYPE
		}
		g.Go(func() error {
			_, err := getUser(gctx, rdb, key)
			if retryable.Classify(err) == retryable.Canceled {
				canceled.Add(1)
				return nil
			}
			done.Add(1)
			return err
		})
	}
	err = g.Wait()
	fmt.Fprintf(w, "2. a bug in one job: %v (class %v)\n", err, retryable.Classify(err))
	if retryable.Classify(err) != retryable.Response {
		return fmt.Errorf("errgroup returned %v, want the WRONGTYPE error", err)
	}
	fmt.Fprintf(w, "   errgroup canceled the other jobs: %d ran, %d ended with context.Canceled (%d in all)\n",
		done.Load(), canceled.Load(), lookups)
	fmt.Fprintf(w, "   canceled calls are neither retried nor handed to the fallback; the policy did: %s\n", seen.take())

	// 3. A frozen server: each call ends at its deadline, then the fallback
	// answers; once the breaker opens, calls do not wait at all.
	slowest.Store(0)
	var answered atomic.Int64
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i := range 40 {
		g.Go(func() error {
			start := time.Now()
			v, err := getUser(gctx, stuck, userKey(i))
			maxInto(&slowest, time.Since(start))
			if err != nil {
				return err
			}
			if v == db[userKey(i)] {
				answered.Add(1)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	fmt.Fprintf(w, "3. 40 lookups on a frozen server: %d answered by the fallback, slowest %v for a %v deadline\n",
		answered.Load(), roundMs(slowest.Load()), deadline)
	brk := p.Breakers().Get(frozen.Addr())
	fmt.Fprintf(w, "   the frozen node's breaker is %v, the other node's %v; the policy did: %s\n",
		brk.State(), p.Breakers().Get(srv.Addr).State(), seen.take())

	// 4. The server thaws: the breaker's own PING finds it and closes the
	// breaker; nobody resets anything.
	thawed := time.Now()
	frozen.Thaw(srv.Addr)
	if err := program.Until(ctx, 10*time.Second, "the thawed node's breaker closes", func() bool { return brk.State() == breaker.Closed }); err != nil {
		return err
	}
	fmt.Fprintf(w, "4. the frozen server thaws (it forwards to Redis now): its breaker closed %v later; the policy did: %s\n",
		time.Since(thawed).Round(time.Millisecond), seen.take())
	slowest.Store(0)
	answered.Store(0)
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i := range 40 {
		g.Go(func() error {
			start := time.Now()
			v, err := getUser(gctx, stuck, userKey(i))
			maxInto(&slowest, time.Since(start))
			if err == nil && v == db[userKey(i)] {
				answered.Add(1)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	fmt.Fprintf(w, "   40 lookups through it: %d answered, slowest %v; the policy did: %s\n",
		answered.Load(), roundMs(slowest.Load()), seen.take())
	return nil
}

func keys() []string {
	ks := []string{prefix + "list"}
	for i := range 20 {
		ks = append(ks, userKey(i))
	}
	return ks
}

func maxInto(v *atomic.Int64, d time.Duration) {
	for {
		old := v.Load()
		if int64(d) <= old || v.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

func roundMs(ns int64) time.Duration { return time.Duration(ns).Round(time.Millisecond) }

// frozen is a TCP server that accepts connections and never answers, as a
// Redis stopped with SIGSTOP or stuck in a long command looks to a client,
// until Thaw makes it forward every connection to a real server.
type frozen struct {
	l    net.Listener
	done chan struct{} // closed when the accept loop has ended

	mu     sync.Mutex
	target string            // set by Thaw
	held   []net.Conn        // accepted while frozen, not yet forwarded
	conns  map[net.Conn]bool // every connection, both ends, to close at Close
	wg     sync.WaitGroup    // the forwarding goroutines
}

func startFrozen() (*frozen, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &frozen{l: l, done: make(chan struct{}), conns: map[net.Conn]bool{}}
	go func() {
		defer close(f.done)
		for {
			c, err := l.Accept()
			if err != nil {
				return // closed
			}
			f.mu.Lock()
			f.conns[c] = true
			if f.target == "" {
				f.held = append(f.held, c)
			} else {
				f.forward(c)
			}
			f.mu.Unlock()
		}
	}()
	return f, nil
}

func (f *frozen) Addr() string { return f.l.Addr().String() }

// Thaw forwards the connections to target: those held, whose commands
// (sent before the thaw) it now passes on as a resumed server would
// answer them, and every new one.
func (f *frozen) Thaw(target string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.target = target
	for _, c := range f.held {
		f.forward(c)
	}
	f.held = nil
}

// forward pipes c to the target in both directions. Called with mu held.
func (f *frozen) forward(c net.Conn) {
	target := f.target
	f.wg.Go(func() {
		u, err := net.DialTimeout("tcp", target, time.Second)
		if err != nil {
			_ = c.Close()
			return
		}
		f.mu.Lock()
		if f.conns == nil { // closed meanwhile
			f.mu.Unlock()
			_ = u.Close()
			return
		}
		f.conns[u] = true
		f.mu.Unlock()
		var both sync.WaitGroup
		both.Go(func() { _, _ = io.Copy(u, c); _ = u.Close() })
		both.Go(func() { _, _ = io.Copy(c, u); _ = c.Close() })
		both.Wait()
	})
}

// Close stops listening, drops every connection and waits for the
// server's goroutines to end.
func (f *frozen) Close() {
	_ = f.l.Close()
	<-f.done
	f.mu.Lock()
	for c := range f.conns {
		_ = c.Close()
	}
	f.conns = nil
	f.mu.Unlock()
	f.wg.Wait()
}
