package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// benchModule is the module path of this command's module.
const benchModule = "github.com/go-retryable/retryable/bench"

func main() {
	if os.Getenv(workerEnv) == "1" {
		os.Exit(workerMain(os.Stdin, os.Stdout))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := commandMain(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// commandMain parses args, runs the benchmark and writes its report. It
// returns the exit code.
func commandMain(ctx context.Context, args []string, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if err := runAndWrite(ctx, cfg); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return 0
}

// runAndWrite runs cfg and writes the report into cfg.out, also when a
// part of the run failed (the report says which); it returns the failures.
func runAndWrite(ctx context.Context, cfg *config) error {
	rep, runErr := run(ctx, cfg)
	if err := rep.write(cfg.out); err != nil {
		return errors.Join(runErr, err)
	}
	cfg.say("done in %v: %s", rep.Elapsed.Round(time.Second), filepath.Join(cfg.out, "REPORT.md"))
	return runErr
}

// parseFlags turns the command line into a config.
func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: go run ./bench [flags]   (from the repository root; or cd bench && go run . [flags])\n\n"+
			"Runs retryable against go-redis alone, failsafe-go and cenkalti/backoff under real faults and writes\n"+
			"REPORT.md, results.json and charts/.\n\n")
		fs.PrintDefaults()
	}
	var (
		d        = fs.Duration("duration", time.Second, "time scale of every fault phase: at 1s the faults last what their descriptions say (a 5 s outage, ...); the lead-in, the watched tail, the call deadline (1x) and the buckets (1/10) scale with it")
		faultsF  = fs.String("faults", "all", "comma list of faults to run: all, or of "+strings.Join(faultNames(), ","))
		contF    = fs.String("contenders", "all", "comma list of contenders: all, or of "+strings.Join(contenderNames(), ","))
		quick    = fs.Bool("quick", false, "shorter lead-in and tail, fewer capacity rounds, shorter microbenchmarks: the whole run in under 2 minutes")
		out      = fs.String("out", "", "output directory (default: bench/results of the repository)")
		rate     = fs.Int("rate", 2000, "calls per second each contender starts (open load: one goroutine per call)")
		micro    = fs.Bool("micro", true, "run the in-process microbenchmarks")
		capacity = fs.Bool("capacity", true, "run the closed-loop GET throughput rounds")
		together = fs.String("together", "auto", "run a fault's contenders at the same time (true) or one after another, each alone on the machine (false); auto: together with -quick only")
	)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *d < time.Millisecond || *rate < 1 || *rate > 100_000 {
		return nil, errors.New("-duration must be at least 1ms and -rate from 1 to 100000")
	}
	cfg := &config{d: *d, quick: *quick, rate: *rate, micro: *micro, capacity: *capacity,
		progress: stderr, benchtime: 300 * time.Millisecond}
	if *quick {
		cfg.benchtime = 100 * time.Millisecond
	}
	switch *together {
	case "auto":
		cfg.together = *quick
	case "true", "false":
		cfg.together = *together == "true"
	default:
		return nil, fmt.Errorf("-together %q: want auto, true or false", *together)
	}
	for _, n := range split(*faultsF, faultNames()) {
		f, err := faultNamed(n)
		if err != nil {
			return nil, err
		}
		cfg.faults = append(cfg.faults, f)
	}
	for _, n := range split(*contF, contenderNames()) {
		c, err := contenderNamed(n)
		if err != nil {
			return nil, err
		}
		cfg.contenders = append(cfg.contenders, c)
	}
	cfg.out = *out
	if cfg.out == "" {
		cfg.out = defaultOut()
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cfg.exe = exe
	cfg.command = commandLine(args)
	return cfg, nil
}

// split returns the names of a comma list, all for "all".
func split(list string, all []string) []string {
	if strings.TrimSpace(list) == "all" {
		return all
	}
	var out []string
	for n := range strings.SplitSeq(list, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func faultNames() []string {
	n := make([]string, len(faults))
	for i, f := range faults {
		n[i] = f.name
	}
	return n
}

// moduleDir returns the directory of the bench module as seen from the
// working directory: "." inside it, "bench" at the repository root, ""
// when neither.
func moduleDir() string {
	for _, dir := range []string{".", "bench"} {
		if moduleOf(filepath.Join(dir, "go.mod")) == benchModule {
			return dir
		}
	}
	return ""
}

// moduleOf returns the module path declared by the go.mod at path.
func moduleOf(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.TrimSpace(m)
		}
	}
	return ""
}

// defaultOut is bench/results of the repository, wherever the command
// runs from within it.
func defaultOut() string {
	if dir := moduleDir(); dir != "" {
		return filepath.Join(dir, "results")
	}
	return filepath.Join("bench", "results")
}

// commandLine is how the command was run, for the report.
func commandLine(args []string) string {
	cmd := "go run ./bench"
	if moduleDir() == "." {
		cmd = "cd bench && go run ."
	}
	if len(args) > 0 {
		cmd += " " + strings.Join(args, " ")
	}
	return cmd
}
