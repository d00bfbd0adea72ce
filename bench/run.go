package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// config is one run of the command.
type config struct {
	d          time.Duration // the time scale of every timeline
	quick      bool
	together   bool // run a fault's contenders at the same time
	faults     []fault
	contenders []contender
	out        string
	rate       int           // calls per second per contender
	micro      bool          // run the in-process microbenchmarks
	capacity   bool          // run the closed-loop GET throughput rounds
	benchtime  time.Duration // of each round of each microbenchmark
	exe        string        // the worker binary: this program
	progress   io.Writer
	command    string // the command line, for the report
}

// lead is the healthy time before a fault starts.
func (c *config) lead() time.Duration {
	if c.quick {
		return c.d
	}
	return c.d * 3 / 2
}

// tail is the time watched after a fault's planned end: long enough, in
// the full run, for a breaker open for 5 s to let a probe through.
func (c *config) tail() time.Duration {
	if c.quick {
		return 3 * c.d
	}
	return 6 * c.d
}

// bucket is the width of the series and of the recovery windows.
func (c *config) bucket() time.Duration { return max(c.d/10, time.Millisecond) }

// deadline is every call's context deadline.
func (c *config) deadline() time.Duration { return c.d }

// populate is the number of keys of the failover master.
func (c *config) populate() int {
	n := int(300_000 * min(1, c.d.Seconds()))
	if c.quick {
		n /= 3
	}
	return max(n, 1000)
}

// faultRun is the outcome of one fault for every contender.
type faultRun struct {
	Name     string      `json:"name"`
	Title    string      `json:"title"`
	What     string      `json:"what"`
	LeadMS   float64     `json:"lead_ms"`   // the fault starts here, from T0
	LengthMS float64     `json:"length_ms"` // planned
	WindowMS float64     `json:"window_ms"` // of the measurement, from T0
	Results  []runResult `json:"results"`
	// Episodes per contender, in the order of Results: when the fault was on.
	Episodes [][][2]float64 `json:"episodes_ms"`
}

// run runs every fault of cfg and then the in-process measurements. A
// part that fails is reported in the report's Failures and the run goes
// on; run returns them joined, with the report of what did run.
func run(ctx context.Context, cfg *config) (*report, error) {
	rep := &report{Started: time.Now(), Config: cfg}
	fail := func(what string, err error) {
		rep.Failures = append(rep.Failures, fmt.Sprintf("%s: %v", what, err))
		cfg.say("%s FAILED: %v", what, err)
	}
	tx := newToxi()
	for i, f := range cfg.faults {
		if ctx.Err() != nil {
			break
		}
		step := fmt.Sprintf("[%d/%d]", i+1, len(cfg.faults))
		if cfg.together {
			fr, err := runFault(ctx, cfg, tx, f, cfg.contenders, step)
			if err != nil {
				fail("fault "+f.name, err)
				continue
			}
			rep.Faults = append(rep.Faults, fr)
			continue
		}
		// One contender after another, each alone on the machine.
		var all faultRun
		var failed error
		for j, c := range cfg.contenders {
			fr, err := runFault(ctx, cfg, tx, f, []contender{c}, fmt.Sprintf("%s (%d/%d)", step, j+1, len(cfg.contenders)))
			if err != nil {
				failed = fmt.Errorf("%s: %w", c.name, err)
				break
			}
			if j == 0 {
				all = fr
			} else {
				all.Results = append(all.Results, fr.Results...)
				all.Episodes = append(all.Episodes, fr.Episodes...)
			}
		}
		if failed != nil {
			fail("fault "+f.name, failed)
			continue
		}
		rep.Faults = append(rep.Faults, all)
	}
	if cfg.capacity && ctx.Err() == nil {
		cfg.say("capacity: closed-loop GET throughput, 64 goroutines, rounds rotating over the contenders")
		if c, err := measureCapacity(ctx, cfg); err != nil {
			fail("capacity", err)
		} else {
			rep.Capacity = c
		}
	}
	if cfg.micro && ctx.Err() == nil {
		cfg.say("microbenchmarks: in-process success path and refused call")
		if m, err := microbenchmarks(cfg.benchtime); err != nil {
			fail("microbenchmarks", err)
		} else {
			rep.Micro = m
		}
	}
	if err := ctx.Err(); err != nil {
		fail("run", err)
	}
	rep.Elapsed = time.Since(rep.Started)
	if len(rep.Failures) > 0 {
		return rep, errors.New(strings.Join(rep.Failures, "; "))
	}
	return rep, nil
}

// say prints a progress line.
func (c *config) say(format string, args ...any) {
	if c.progress != nil {
		fmt.Fprintf(c.progress, "bench: "+format+"\n", args...)
	}
}

// runFault runs fault f for the contenders cs at once, each against its own
// servers and in its own worker process.
func runFault(ctx context.Context, cfg *config, tx *toxi, f fault, cs []contender, step string) (faultRun, error) {
	started := time.Now()
	d := cfg.d
	lead, length := cfg.lead(), f.length(d)
	window := lead + length + cfg.tail()
	if f.length(d) == 0 {
		window = lead + 5*d
	}
	fr := faultRun{Name: f.name, Title: f.title, What: f.what(d), LeadMS: msOf(lead),
		LengthMS: msOf(length), WindowMS: msOf(window)}
	cfg.say("%s %s: starting servers", step, f.name)

	root, err := os.MkdirTemp("", "retryable-bench-")
	if err != nil {
		return fr, err
	}
	defer os.RemoveAll(root)
	spec := f.env
	if spec.kind == failover {
		spec.populate = cfg.populate()
	}
	n := len(cs)
	envs := make([]*env, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() { envs[i], errs[i] = newEnv(tx, root, c.name, spec) })
	}
	wg.Wait()
	defer func() {
		for _, e := range envs {
			if e != nil {
				e.close()
			}
		}
	}()
	if err := errors.Join(errs...); err != nil {
		return fr, err
	}

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	procs := make([]*workerProc, n)
	for i, c := range cs {
		procs[i], errs[i] = startWorker(wctx, cfg.exe, workerSpec{
			Contender: c.name, Addrs: envs[i].target.Addrs, Cluster: envs[i].target.Cluster,
			Rate: cfg.rate, Deadline: cfg.deadline(), Window: window,
			IncrOnly: f.incrOnly, Prefix: "bench:incr:" + f.name,
		})
	}
	defer func() {
		for _, p := range procs {
			if p != nil {
				p.kill()
			}
		}
	}()
	if err := errors.Join(errs...); err != nil {
		return fr, err
	}
	for i, p := range procs {
		wg.Go(func() { errs[i] = p.ready(60 * time.Second) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fr, err
	}
	for _, e := range envs {
		if err := e.mark(); err != nil {
			return fr, err
		}
	}
	t0 := time.Now().Add(50 * time.Millisecond)
	for _, p := range procs {
		if err := p.start(t0); err != nil {
			return fr, err
		}
	}
	names := make([]string, n)
	for i, c := range cs {
		names[i] = c.name
	}
	cfg.say("%s %s: %s, %v window (fault from %v for %v)", step, f.name, strings.Join(names, ", "),
		window.Round(time.Millisecond), lead, length.Round(time.Millisecond))

	sched := &schedule{ctx: wctx, t0: t0, d: d, lead: lead}
	eps := make([]episode, n)
	for i, e := range envs {
		wg.Go(func() { eps[i], errs[i] = f.inject(sched, e) })
	}
	reps := make([]*workerReport, n)
	repErrs := make([]error, n)
	var wwg sync.WaitGroup
	for i, p := range procs {
		wwg.Go(func() { reps[i], repErrs[i] = p.report(window + 2*time.Minute) })
	}
	stopTick := cfg.ticker(step+" "+f.name, t0, window)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		stopTick()
		return fr, err
	}
	wwg.Wait()
	stopTick()
	if err := errors.Join(repErrs...); err != nil {
		return fr, err
	}

	for i, c := range cs {
		received, replies, err := envs[i].received()
		if err != nil {
			return fr, err
		}
		nIncr := 0
		for _, s := range reps[i].Seq {
			nIncr = max(nIncr, int(s)+1)
		}
		kctx, kcancel := context.WithTimeout(ctx, time.Minute)
		counts, err := envs[i].incrCounts(kctx, "bench:incr:"+f.name, nIncr)
		kcancel()
		if err != nil {
			return fr, fmt.Errorf("%s: reading the INCR keys: %v", c.name, err)
		}
		r := analyze(c.name, runInputs{rep: reps[i], ep: eps[i], window: window, bucket: cfg.bucket(),
			deadline: cfg.deadline(), received: received, counts: counts})
		r.ServerErrors = replies
		fr.Results = append(fr.Results, r)
		var on [][2]float64
		for _, iv := range eps[i].On {
			on = append(on, [2]float64{msOf(iv[0]), msOf(iv[1])})
		}
		fr.Episodes = append(fr.Episodes, on)
	}
	cfg.say("%s %s: done in %v", step, f.name, time.Since(started).Round(100*time.Millisecond))
	return fr, nil
}

// ticker prints the progress of a window every few seconds until stopped.
func (c *config) ticker(what string, t0 time.Time, window time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				el := min(time.Since(t0), window)
				c.say("%s: %v of %v", what, el.Round(100*time.Millisecond), window.Round(100*time.Millisecond))
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// workerProc is a worker process and its pipes.
type workerProc struct {
	name   string
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *limited
}

// startWorker starts exe as a worker and sends it spec.
func startWorker(ctx context.Context, exe string, spec workerSpec) (*workerProc, error) {
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), workerEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &workerProc{name: spec.Contender, cmd: cmd, stderr: &limited{n: 8 << 10}}
	cmd.Stderr = p.stderr
	var err error
	if p.in, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.out = bufio.NewReaderSize(stdout, 1<<20)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the worker of %s: %v", spec.Contender, err)
	}
	b, _ := json.Marshal(spec)
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

// line reads one line of the worker within timeout.
func (p *workerProc) line(timeout time.Duration) ([]byte, error) {
	type res struct {
		b   []byte
		err error
	}
	ch := make(chan res, 1)
	go func() {
		b, err := p.out.ReadBytes('\n')
		ch <- res{b, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("worker of %s: %v (stderr: %s)", p.name, r.err, p.stderr)
		}
		if bytes.HasPrefix(r.b, []byte("error ")) {
			return nil, fmt.Errorf("worker of %s: %s", p.name, bytes.TrimSpace(r.b[6:]))
		}
		return r.b, nil
	case <-t.C:
		p.kill()
		<-ch
		return nil, fmt.Errorf("worker of %s: no answer within %v (stderr: %s)", p.name, timeout, p.stderr)
	}
}

func (p *workerProc) ready(timeout time.Duration) error {
	b, err := p.line(timeout)
	if err != nil {
		return err
	}
	if string(bytes.TrimSpace(b)) != "ready" {
		return fmt.Errorf("worker of %s: answered %q, want ready", p.name, b)
	}
	return nil
}

func (p *workerProc) start(t0 time.Time) error {
	_, err := io.WriteString(p.in, strconv.FormatInt(t0.UnixNano(), 10)+"\n")
	return err
}

func (p *workerProc) report(timeout time.Duration) (*workerReport, error) {
	b, err := p.line(timeout)
	if err != nil {
		return nil, err
	}
	var rep workerReport
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("worker of %s: decoding its report: %v", p.name, err)
	}
	_ = p.in.Close()
	if err := p.cmd.Wait(); err != nil {
		return nil, fmt.Errorf("worker of %s: %v (stderr: %s)", p.name, err, p.stderr)
	}
	p.cmd = nil
	return &rep, nil
}

// kill ends a worker that has not reported.
func (p *workerProc) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd = nil
}

// limited keeps the first n bytes written to it.
type limited struct {
	mu sync.Mutex
	b  bytes.Buffer
	n  int
}

// String returns what was kept, without surrounding space.
func (l *limited) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.TrimSpace(l.b.String())
}

func (l *limited) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
