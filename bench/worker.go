package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// workerEnv, set to "1" in a process's environment, makes the command (or
// the test binary) a worker: one contender's load generator, run in its own
// process so that its goroutines and memory are its own.
//
// The protocol, on the worker's stdin and stdout, one line each: the parent
// sends a workerSpec (JSON); the worker builds its client, warms it up and
// answers "ready"; the parent sends T0 (Unix nanoseconds); the worker runs
// the workload from T0 for the spec's window and answers a workerReport
// (JSON), then exits.
const workerEnv = "RETRYABLE_BENCH_WORKER"

// getKeys is the number of keys GET reads, round-robin, so that a cluster
// spreads them over its masters.
const getKeys = 64

// workerSpec is what a worker runs.
type workerSpec struct {
	Contender string
	Addrs     []string
	Cluster   bool
	Rate      int           // calls started per second
	Deadline  time.Duration // of every call's context
	Window    time.Duration // from T0
	IncrOnly  bool          // only INCR (else GET and INCR alternate)
	Prefix    string        // of the INCR keys: Prefix + ":" + sequence number
}

// workerReport is what a worker measured: one entry per call in each of
// Start, Lat, Kind and Seq.
type workerReport struct {
	Start []int64 // ns from T0
	Lat   []int64 // ns
	Kind  []kind
	Seq   []int32 // the INCR's sequence number, -1 for a GET
	Dials int64   // connections the client dialed during the window

	BaseGoroutines int    // before the window
	PeakGoroutines int    // the most seen during the window (one per call in flight, and the client's own)
	PeakHeap       uint64 // bytes of live heap objects, the most seen
	PeakRSS        uint64 // the process's peak resident set (VmHWM)
}

// quietLogger drops go-redis's log lines (its dial failures).
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// workerMain runs a worker on in and out and returns the exit code.
func workerMain(in io.Reader, out io.Writer) int {
	if err := work(bufio.NewReader(in), out); err != nil {
		fmt.Fprintf(os.Stderr, "bench worker: %v\n", err)
		fmt.Fprintf(out, "error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return 1
	}
	return 0
}

func work(in *bufio.Reader, out io.Writer) error {
	redis.SetLogger(quietLogger{})
	line, err := in.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("reading the spec: %v", err)
	}
	var spec workerSpec
	if err := json.Unmarshal(line, &spec); err != nil {
		return fmt.Errorf("decoding the spec: %v", err)
	}
	c, err := contenderNamed(spec.Contender)
	if err != nil {
		return err
	}
	var dials atomic.Int64
	d := &net.Dialer{Timeout: 5 * time.Second}
	cn, err := c.build(target{Addrs: spec.Addrs, Cluster: spec.Cluster,
		dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return d.DialContext(ctx, network, addr)
		}})
	if err != nil {
		return fmt.Errorf("%s: building the client: %v", c.name, err)
	}
	defer cn.rdb.Close()
	if err := warmUp(cn, spec); err != nil {
		return fmt.Errorf("%s: warm-up: %v", c.name, err)
	}
	fmt.Fprintln(out, "ready")

	line, err = in.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("reading T0: %v", err)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(line)), 10, 64)
	if err != nil {
		return fmt.Errorf("decoding T0: %v", err)
	}
	// A time with a monotonic reading that stands for T0, so that offsets
	// do not depend on the wall clock after this point.
	now := time.Now()
	t0 := now.Add(time.Unix(0, ns).Sub(now))
	rep := &workerReport{BaseGoroutines: runtime.NumGoroutine()}
	dials.Store(0)
	stop := sample(rep)
	runLoad(cn, spec, t0, rep)
	stop()
	rep.Dials = dials.Load()
	rep.PeakRSS = peakRSS()
	return json.NewEncoder(out).Encode(rep)
}

// warmUp seeds the keys GET reads and fills the pool as steady traffic
// would, so that the window starts from a client in service.
func warmUp(cn *conn, spec workerSpec) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range getKeys {
		if err := cn.rdb.Set(ctx, getKey(i), "value-"+strconv.Itoa(i), 0).Err(); err != nil {
			return err
		}
	}
	var (
		wg    sync.WaitGroup
		first atomic.Pointer[error]
	)
	for w := range 16 {
		wg.Go(func() {
			for i := range 10 {
				err := cn.do(ctx, func(ctx context.Context) error {
					if i%2 == 0 {
						return cn.rdb.Get(ctx, getKey(w+i)).Err()
					}
					return cn.rdb.Incr(ctx, spec.Prefix+":warm").Err()
				})
				if err != nil && !errors.Is(err, redis.Nil) {
					first.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	if e := first.Load(); e != nil {
		return *e
	}
	return nil
}

func getKey(i int) string { return "bench:get:" + strconv.Itoa(i%getKeys) }

// runLoad runs spec's workload from t0 for spec.Window and fills rep with
// every call. The load is open: call i starts at t0 + i/Rate in a goroutine
// of its own, whether or not earlier calls have returned, as requests
// reach a service; a client that blocks piles up goroutines instead of
// quietly lowering the load (no coordinated omission).
func runLoad(cn *conn, spec workerSpec, t0 time.Time, rep *workerReport) {
	n := int(int64(spec.Window) * int64(spec.Rate) / int64(time.Second))
	rep.Start = make([]int64, n)
	rep.Lat = make([]int64, n)
	rep.Kind = make([]kind, n)
	rep.Seq = make([]int32, n)
	var (
		seq atomic.Int32
		wg  sync.WaitGroup
		bg  = context.Background()
	)
	for i := range n {
		at := t0.Add(time.Duration(int64(i) * int64(time.Second) / int64(spec.Rate)))
		if wait := time.Until(at); wait > 0 {
			time.Sleep(wait)
		}
		incr := spec.IncrOnly || i%2 == 1
		s := int32(-1)
		if incr {
			s = seq.Add(1) - 1
		}
		wg.Go(func() {
			start := time.Now()
			ctx, cancel := context.WithDeadline(bg, start.Add(spec.Deadline))
			var err error
			if incr {
				key := spec.Prefix + ":" + strconv.Itoa(int(s))
				err = cn.do(ctx, func(ctx context.Context) error { return cn.rdb.Incr(ctx, key).Err() })
			} else {
				key := getKey(i / 2)
				err = cn.do(ctx, func(ctx context.Context) error { return cn.rdb.Get(ctx, key).Err() })
			}
			rep.Lat[i] = int64(time.Since(start))
			cancel()
			rep.Start[i] = int64(start.Sub(t0))
			rep.Kind[i] = kindOf(err)
			rep.Seq[i] = s
		})
	}
	wg.Wait()
}

// sample records the peak goroutine count and live heap into rep every
// 10 ms until the returned function is called.
func sample(rep *workerReport) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		if n := runtime.NumGoroutine(); n > rep.PeakGoroutines {
			rep.PeakGoroutines = n
		}
		metrics.Read(s)
		if s[0].Value.Kind() == metrics.KindUint64 {
			rep.PeakHeap = max(rep.PeakHeap, s[0].Value.Uint64())
		}
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read()
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		read()
		// The sampler itself is not the contender's.
		rep.PeakGoroutines--
	}
}

// peakRSS returns the process's VmHWM in bytes, 0 when unknown.
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
