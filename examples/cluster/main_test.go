package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/examples/internal/examplestest"
	"github.com/go-retryable/retryable/examples/internal/program"
	"github.com/go-retryable/retryable/policy"
)

func TestMain(m *testing.M) { examplestest.Main(m) }

// The first part, on any cluster: keys on every node, one node isolated
// by hand while the others serve.
var common = []string{
	"1. 30 keys written; per node: ",
	"2. ", " isolated by hand (ForceOpen): its keys CircuitOpen=", "; other keys OK=", "; breaker closed -> open",
	"   released: its keys OK=", "; other keys OK=", "; breaker open -> closed",
}

func TestRunLocal(t *testing.T) {
	examplestest.RedisOnPath(t)
	out := examplestest.Run(t, run)
	examplestest.InOrder(t, out, append(append([]string{"cluster: started 3 redis-server nodes: 127.0.0.1:"}, common...),
		"3. ", " killed",
		"   its keys ", "; other keys OK=", "; breaker closed -> open",
		"   again: its keys CircuitOpen=",
		"   restarted; its keys until the breaker closed ", "; breaker open -> ", "half-open -> closed",
		"   recovered: its keys miss=", "; other keys OK=",
	)...)
	if n := len(regexp.MustCompile(`127\.0\.0\.1:\d+=\d+`).FindAllString(out, -1)); n != 3 {
		t.Errorf("keys on %d nodes, want 3", n)
	}
	// Keys of the other nodes never fail.
	if regexp.MustCompile(`other keys [^;]*(CircuitOpen|Connection|ClusterDown)`).MatchString(out) {
		t.Error("another node's keys failed")
	}
	// The killed node's breaker opens at its fifth failed call (go-redis's
	// own commands to the node, such as the CLUSTER SLOTS of a reload,
	// count too), which gets the node's own error; its other keys are
	// refused.
	killed := regexp.MustCompile(` killed\n   its keys CircuitOpen=\d+ \(slowest [^)]+\) Connection=(\d+) \(`).FindStringSubmatch(out)
	if killed == nil {
		t.Error("the killed node's keys: want Connection failures, then refusals")
	} else if n, _ := strconv.Atoi(killed[1]); n < 1 || n > breaker.DefaultConsecutiveFailures {
		t.Errorf("the killed node's keys: %d Connection failures, want 1 to %d, then refusals", n, breaker.DefaultConsecutiveFailures)
	}
	// Once open, the killed node's keys fail in microseconds.
	if !regexp.MustCompile(`again: its keys CircuitOpen=\d+ \(slowest \d+µs\)`).MatchString(out) {
		t.Error("calls refused by the open breaker were not fast")
	}
}

func TestRunExternal(t *testing.T) {
	examplestest.RedisOnPath(t)
	c, err := program.StartCluster(context.Background(), 3)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Setenv("REDIS_CLUSTER_ADDRS", strings.Join(c.Addrs()[:2], ","))
	out := examplestest.Run(t, run)
	examplestest.InOrder(t, out, append(append([]string{"cluster: REDIS_CLUSTER_ADDRS="}, common...),
		"3. (a cluster this example did not start is not killed: skipped)")...)
}

func TestRunNoRedis(t *testing.T) {
	examplestest.NoRedis(t)
	out := examplestest.Run(t, run)
	if out != howTo {
		t.Errorf("output %q, want the instructions", out)
	}
}

// transitions compresses a run of failed probes.
func Example_transitions() {
	tr := &transitions{}
	node := "127.0.0.1:7000"
	change := func(from, to breaker.State) {
		tr.observe(policy.Event{Kind: policy.BreakerChanged, Node: node, From: from, To: to})
	}
	change(breaker.Closed, breaker.Open)
	fmt.Println(tr.take(node))
	for range 3 {
		change(breaker.Open, breaker.HalfOpen)
		change(breaker.HalfOpen, breaker.Open)
	}
	change(breaker.Open, breaker.HalfOpen)
	change(breaker.HalfOpen, breaker.Closed)
	fmt.Println(tr.take(node))
	fmt.Println(tr.take(node))
	// Output:
	// closed -> open
	// open -> (half-open -> open) x3 -> half-open -> closed
	// unchanged
}
