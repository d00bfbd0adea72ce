package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/examples/internal/examplestest"
	"github.com/go-retryable/retryable/policy"
)

func TestMain(m *testing.M) { examplestest.Main(m) }

func TestRun(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T)
	}{
		{"REDIS_ADDR", func(t *testing.T) { t.Setenv("REDIS_ADDR", examplestest.StartServer(t).Addr()) }},
		{"redis-server on PATH", func(t *testing.T) { examplestest.RedisOnPath(t) }},
		{"no Redis at all", func(t *testing.T) { examplestest.NoRedis(t) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup(t)
			out := examplestest.Run(t, run)
			examplestest.InOrder(t, out,
				"1. 200 lookups, 16 goroutines at a time, one policy: all answered",
				"   what the policy did: nothing",
				"2. a bug in one job: WRONGTYPE",
				"(class Response)",
				"   errgroup canceled the other jobs: ",
				"   canceled calls are neither retried nor handed to the fallback; the policy did: nothing",
				"3. 40 lookups on a frozen server: 40 answered by the fallback, slowest ",
				"   the frozen node's breaker is ", // open, or half-open while its PING waits on the frozen node
				", the other node's closed; the policy did: breaker closed -> open 1, ",
				"fallback used (Timeout) ",
				"gave up (Timeout) ",
				"4. the frozen server thaws (it forwards to Redis now): its breaker closed ",
				"breaker half-open -> closed 1",
				"   40 lookups through it: 40 answered, slowest ",
				"the policy did: nothing\n",
			)
			two := regexp.MustCompile(`(\d+) ran, (\d+) ended with context.Canceled`).FindStringSubmatch(out)
			if two == nil || atoi(two[1])+atoi(two[2]) != 200 || atoi(two[2]) == 0 {
				t.Errorf("batch 2: %v, want some of the 200 jobs canceled", two)
			}
			// A call never outlives its deadline by more than a few ms,
			// race detector included.
			for _, m := range regexp.MustCompile(`slowest ([0-9.]+[mµn]?s)`).FindAllStringSubmatch(out, -1) {
				if d, err := time.ParseDuration(m[1]); err != nil || d > deadline+50*time.Millisecond {
					t.Errorf("slowest call %s, deadline %v", m[1], deadline)
				}
			}
			// The breaker opened after 5 calls in a row timed out; the
			// calls already in flight (3 at most, 4 at a time) timed out
			// too, the rest were refused.
			three := regexp.MustCompile(`fallback used \(CircuitOpen\) (\d+), fallback used \(Timeout\) (\d+)`).FindStringSubmatch(out)
			if three == nil || atoi(three[1])+atoi(three[2]) != 40 || atoi(three[2]) < 5 || atoi(three[2]) > 8 {
				t.Errorf("batch 3: %v, want 5 to 8 timeouts and the rest of the 40 refused", three)
			}
			if !regexp.MustCompile(`the frozen node's breaker is (open|half-open), `).MatchString(out) {
				t.Error("batch 3: the frozen node's breaker is not open")
			}
			// The thawed node's breaker closed by itself, once.
			four := regexp.MustCompile(`4\. .*`).FindString(out)
			if strings.Contains(four, "closed -> open") || strings.Contains(four, "fallback") {
				t.Errorf("batch 4: %s", four)
			}
		})
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// The fallback answers a GET from the database, as get_with_fallback's
// except clause does, and leaves other commands' errors alone.
func Example_fallback() {
	ctx := context.Background()
	db := newDatabase()
	down := errors.New("dial tcp: connection refused")

	get := redis.NewStringCmd(ctx, "get", userKey(3))
	fmt.Println(db.fallback(ctx, get, down), get.Val())
	incr := redis.NewIntCmd(ctx, "incr", "n")
	fmt.Println(db.fallback(ctx, incr, down))
	// Output:
	// <nil> user 3
	// dial tcp: connection refused
}

// counts is the observer: what the policy did, in a line.
func Example_counts() {
	c := &counts{n: map[string]int{}}
	c.observe(policy.Event{Kind: policy.FallbackUsed, Class: retryable.Timeout})
	c.observe(policy.Event{Kind: policy.FallbackUsed, Class: retryable.Timeout})
	c.observe(policy.Event{Kind: policy.Refused, Class: retryable.CircuitOpen})
	fmt.Println(c.take())
	fmt.Println(c.take())
	// Output:
	// fallback used (Timeout) 2, refused (CircuitOpen) 1
	// nothing
}
