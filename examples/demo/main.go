// Command demo shows a go-redis client that keeps serving through a Redis
// outage, with retryable installed as a hook.
//
// It runs four phases against one Redis server, in well under ten seconds:
//
//  1. normal traffic through hooks.NewClient with policy.Default(), an
//     Observe function and a slog logger: three readers GET cached users
//     (filling misses from a "database"), record what they viewed with a
//     best-effort SET, and count page views with INCR;
//  2. an outage: the server goes away for a few seconds while the readers
//     keep going. Once the circuit breaker opens, calls fail fast with
//     CircuitOpen (no network, no waiting), GETs are answered by a fallback
//     from the database (graceful degradation) and the best-effort SETs are
//     swallowed (log and continue): the policy logs each decision at Debug
//     (the demo prints the first of each kind) and, when the breaker
//     closes, a summary of the outage at Warn;
//  3. recovery: the server comes back on the same address and the breaker
//     closes by itself, with no operator action: while it is open it
//     PINGs the node itself, and it closes at the first PING answered;
//  4. a summary: what the callers saw, by error class, what the engine did,
//     and the breaker's transitions.
//
// Without REDIS_ADDR it starts an embedded miniredis, which it closes and
// restarts for the outage. With REDIS_ADDR=host:port it uses that server
// for the normal traffic; since it cannot stop a server it does not own, it
// simulates the outage with a second client whose address is a closed local
// port, and for the recovery opens a forwarder to REDIS_ADDR on that port.
// It writes only keys under "retryable-demo:" and deletes them at the end.
//
// Run it from the repository root with
//
//	go run ./examples/demo
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/policy"
)

// keyPrefix is the prefix of every key the demo writes.
const keyPrefix = "retryable-demo:"

// users is the number of users in the demo's database.
const users = 8

// timing sets the length of the demo's phases.
type timing struct {
	normal  time.Duration // phase 1
	outage  time.Duration // phase 2: how long the server is away
	recover time.Duration // phase 3: the longest wait for the breaker to close
	settle  time.Duration // phase 3: traffic kept up once it has closed
	pace    time.Duration // pause between two requests of one reader
	readers int
}

// demoTiming is the timing of a normal run: about six seconds.
func demoTiming() timing {
	return timing{
		normal:  1500 * time.Millisecond,
		outage:  2500 * time.Millisecond,
		recover: 8 * time.Second,
		settle:  700 * time.Millisecond,
		pace:    25 * time.Millisecond,
		readers: 3,
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	ctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	// go-redis logs every failed dial to stderr; the policy's logger
	// reports the same failures once, so the demo keeps go-redis quiet.
	redis.SetLogger(quiet{})
	err := run(ctx, os.Stdout, os.Getenv("REDIS_ADDR"))
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// quiet is a go-redis logger that drops everything.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// run runs the demo against the Redis server at addr, or against an
// embedded miniredis when addr is empty, and writes its report to w.
func run(ctx context.Context, w io.Writer, addr string) error {
	return runWith(ctx, w, addr, demoTiming())
}

func runWith(ctx context.Context, w io.Writer, addr string, tm timing) error {
	out := &syncWriter{w: w}
	start := time.Now()
	say := func(format string, args ...any) {
		out.printf("[%5.2fs] "+format+"\n", append([]any{time.Since(start).Seconds()}, args...)...)
	}

	// The server, and the outage we can inflict on it.
	var o outage
	normalAddr := addr
	if addr == "" {
		e, err := startEmbedded()
		if err != nil {
			return err
		}
		o, normalAddr = e, e.addr()
		say("no REDIS_ADDR: started an embedded miniredis at %s", normalAddr)
	} else {
		c, err := newClosedPort(addr)
		if err != nil {
			return err
		}
		o = c
		say("REDIS_ADDR=%s: a server this demo cannot stop, so the outage is simulated", addr)
		say("with a second client pointed at %s, a closed local port", c.addr())
	}
	defer o.close()

	// The policy: the production default, with a database fallback for
	// GET, best-effort SETs, an observer that counts and narrates, and a
	// slog logger.
	st := newStats()
	db := newDatabase()
	logger := slog.New(newFirstOfKind(slog.NewTextHandler(&prefixWriter{out: out, prefix: "          log: "},
		&slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: dropTime})))
	p, err := policy.Default().With(
		policy.Command([]string{"get"}, policy.Fallback(db.fallback)),
		policy.LogAndContinue("set"),
		policy.Observe(st.observer(say)),
		policy.Logger(logger),
	)
	if err != nil {
		return err
	}
	say("policy: policy.Default() (3 attempts, jittered exponential backoff, retry budget, a breaker")
	say("        that opens after 5 failed calls in a row and PINGs the node every 25-50 ms at first,")
	say("        up to every 250-500 ms), a database fallback for GET and LogAndContinue(\"set\")")

	normal, err := hooks.NewClient(clientOptions(normalAddr), p)
	if err != nil {
		return err
	}
	defer normal.Close()
	outageClient := normal
	if o.addr() != normalAddr {
		if outageClient, err = hooks.NewClient(clientOptions(o.addr()), p); err != nil {
			return err
		}
		defer outageClient.Close()
	}
	defer cleanup(ctx, normal, tm.readers)

	a := &app{db: db, st: st, pace: tm.pace}
	a.rdb.Store(normal)
	stopReaders := a.start(ctx, tm.readers)
	defer stopReaders()

	// Phase 1: normal traffic.
	say("phase 1: normal traffic: %d readers GET users (misses filled from the database), SET what they viewed, INCR a counter", tm.readers)
	mark := st.snapshot()
	if err := sleep(ctx, tm.normal); err != nil {
		return err
	}
	d := st.snapshot().sub(mark)
	say("phase 1 done: %d GETs answered by Redis (%d misses filled from the database), %d INCRs ok, %d failed",
		d.ok(opGet)-d.fallbacks, d.misses, d.ok(opIncr), d.failed(opIncr))

	// Phase 2: the outage.
	a.rdb.Store(outageClient)
	mark = st.snapshot()
	say("phase 2: outage: %s", o.downText())
	if err := o.down(); err != nil {
		return err
	}
	outageStart := time.Now()
	if err := sleep(ctx, tm.outage); err != nil {
		return err
	}
	d = st.snapshot().sub(mark)
	say("phase 2 done: %d GETs served by the fallback (callers saw no error), %d best-effort SETs swallowed,",
		d.fallbacks, d.swallowed)
	say("              INCR failures the callers saw: %s", d.failures(opIncr))
	if d.fastFails > 0 {
		say("              the %d CircuitOpen failures took at most %v each: no network, no wait", d.fastFails, d.slowestFastFail)
	}

	// Phase 3: recovery.
	mark = st.snapshot()
	if err := o.up(); err != nil {
		return err
	}
	up := time.Now()
	say("phase 3: recovery: %s after %.1fs away; nobody touches the breaker", o.upText(), up.Sub(outageStart).Seconds())
	brk := p.Breakers().Get(o.addr())
	closings := st.closings()
	if err := waitFor(ctx, tm.recover, func() bool {
		return st.closings() > closings && brk.State() == breaker.Closed && st.snapshot().sub(mark).ok(opIncr) > 0
	}); err != nil {
		return fmt.Errorf("the breaker of %s did not close within %v of the server's return (state %v): %w",
			o.addr(), tm.recover, brk.State(), err)
	}
	say("breaker closed by itself %.1fs after the server came back; reads succeed again", time.Since(up).Seconds())
	settle := st.snapshot()
	if err := sleep(ctx, tm.settle); err != nil {
		return err
	}
	stopReaders()
	d = st.snapshot().sub(settle)
	say("phase 3 done: since the breaker closed, %d GETs answered by Redis, %d by the fallback, %d INCRs ok, %d failed",
		d.ok(opGet)-d.fallbacks, d.fallbacks, d.ok(opIncr), d.failed(opIncr))

	// Phase 4: the summary.
	all := st.snapshot()
	say("summary: callers saw  GET: %s | SET: %s | INCR: %s", all.classes(opGet), all.classes(opSet), all.classes(opIncr))
	say("summary: engine       retries=%d recovered=%d fallbacks=%d swallowed=%d refused=%d gave-up=%d",
		all.retries, all.recovered, all.fallbacks, all.swallowed, all.refused, all.gaveUp)
	say("summary: breaker      %s", st.transitions())
	return nil
}

// clientOptions are the demo's go-redis options: short timeouts, so a dead
// server is noticed quickly, and no CLIENT SETINFO, which miniredis lacks.
func clientOptions(addr string) *redis.Options {
	return &redis.Options{
		Addr:            addr,
		DialTimeout:     250 * time.Millisecond,
		ReadTimeout:     500 * time.Millisecond,
		WriteTimeout:    500 * time.Millisecond,
		PoolSize:        4,
		DisableIdentity: true,
	}
}

// cleanup deletes the demo's keys, best effort: on an external server they
// would otherwise outlive the demo.
func cleanup(ctx context.Context, rdb *redis.Client, readers int) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	keys := []string{keyPrefix + "views"}
	for i := 1; i <= users; i++ {
		keys = append(keys, userKey(i))
	}
	for r := range readers {
		keys = append(keys, lastViewedKey(r))
	}
	_ = rdb.Del(policy.NoRetry(ctx), keys...).Err()
}

func userKey(id int) string      { return keyPrefix + "user:" + strconv.Itoa(id) }
func lastViewedKey(r int) string { return keyPrefix + "last-viewed:" + strconv.Itoa(r) }

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// waitFor polls cond until it holds, for at most limit.
func waitFor(ctx context.Context, limit time.Duration, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// app is the demo's application: readers of a Redis cache in front of a
// database.
type app struct {
	rdb  atomic.Pointer[redis.Client] // the client the readers use now
	db   database
	st   *stats
	pace time.Duration
}

// start starts n readers and returns a function that stops them and waits
// for them; it may be called more than once.
func (a *app) start(ctx context.Context, n int) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for r := range n {
		wg.Go(func() { a.read(ctx, done, r) })
	}
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		wg.Wait()
	}
}

// read is one reader. Its calls use ctx, not done, so stopping the readers
// lets their last calls finish instead of counting them as canceled.
func (a *app) read(ctx context.Context, done <-chan struct{}, r int) {
	tick := time.NewTicker(a.pace)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		a.request(ctx, r, i)
	}
}

// request is one page view of reader r.
func (a *app) request(ctx context.Context, r, i int) {
	rdb := a.rdb.Load()
	key := userKey(1 + (r*3+i)%users)

	// A cached read. During an outage the policy's fallback answers it from
	// the database, so err is nil and v is the database's value.
	v, err := rdb.Get(ctx, key).Result()
	a.st.saw(opGet, err, 0)
	if err == redis.Nil {
		v = a.db.load(key)
		a.st.misses.Add(1)
		// Fill the cache. LogAndContinue("set"): a recoverable failure is
		// logged by the policy and err is nil.
		a.st.saw(opSet, rdb.Set(ctx, key, v, time.Minute).Err(), 0)
	}

	// A best-effort write: what this reader viewed last.
	a.st.saw(opSet, rdb.Set(ctx, lastViewedKey(r), v, time.Minute).Err(), 0)

	// A counter with no fallback: the caller sees its failures, and once
	// the breaker is open they come back at once as CircuitOpen.
	t := time.Now()
	err = rdb.Incr(ctx, keyPrefix+"views").Err()
	a.st.saw(opIncr, err, time.Since(t))
}

// database is the slow, authoritative store behind the cache. It is
// read-only once built.
type database map[string]string

func newDatabase() database {
	names := []string{"ada", "barbara", "claude", "dennis", "edsger", "frances", "grace", "hedy"}
	db := make(database, users)
	for i := 1; i <= users; i++ {
		db[userKey(i)] = names[(i-1)%len(names)]
	}
	return db
}

func (db database) load(key string) string { return db[key] }

// fallback is the policy's fallback for GET: it answers from the database
// when Redis cannot. It runs on the caller's goroutine.
func (db database) fallback(_ context.Context, cmd policy.Cmd, err error) error {
	get, isGet := cmd.(*redis.StringCmd)
	args := cmd.Args()
	if !isGet || len(args) < 2 {
		return err
	}
	key, _ := args[1].(string)
	v, found := db[key]
	if !found {
		return err
	}
	get.SetVal(v)
	return nil
}
