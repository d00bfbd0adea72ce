package main

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/policy"
)

// op is a kind of call the readers make.
type op int

const (
	opGet op = iota
	opSet
	opIncr
	numOps
)

const numClasses = int(retryable.Throttled) + 1 // the last class

// stats counts what the callers saw and what the engine did. It is safe
// for concurrent use.
type stats struct {
	seen            [numOps][numClasses]atomic.Int64 // by op and by the class of the error the caller got
	misses          atomic.Int64
	fastFails       atomic.Int64 // INCRs refused by the open breaker
	slowestFastFail atomic.Int64 // ns

	retries, recovered, gaveUp, refused, fallbacks, swallowed atomic.Int64

	mu    sync.Mutex
	trans map[string]int // "closed -> open": count
}

func newStats() *stats { return &stats{trans: make(map[string]int)} }

// saw records the result of a call as its caller saw it, and how long it
// took when that matters.
func (s *stats) saw(o op, err error, took time.Duration) {
	c := retryable.Classify(err)
	s.seen[o][c].Add(1)
	if c == retryable.CircuitOpen && took > 0 {
		s.fastFails.Add(1)
		for {
			old := s.slowestFastFail.Load()
			if int64(took) <= old || s.slowestFastFail.CompareAndSwap(old, int64(took)) {
				break
			}
		}
	}
}

// observer returns the policy's Observe function: it counts the engine's
// decisions and narrates the breaker's transitions through say.
func (s *stats) observer(say func(string, ...any)) func(policy.Event) {
	return func(e policy.Event) {
		switch e.Kind {
		case policy.RetryScheduled:
			s.retries.Add(1)
		case policy.Recovered:
			s.recovered.Add(1)
		case policy.GaveUp:
			s.gaveUp.Add(1)
		case policy.Refused:
			s.refused.Add(1)
		case policy.FallbackUsed:
			s.fallbacks.Add(1)
		case policy.Swallowed:
			s.swallowed.Add(1)
		case policy.BreakerChanged:
			// Narrate first, count after: a count seen by [stats.closings]
			// means its line is printed.
			say("breaker %s: %v -> %v%s", e.Node, e.From, e.To, transitionNote(e.From, e.To))
			s.mu.Lock()
			s.trans[e.From.String()+"->"+e.To.String()]++
			s.mu.Unlock()
		}
	}
}

func transitionNote(from, to breaker.State) string {
	switch {
	case to == breaker.Open && from == breaker.Closed:
		return ": too many failed calls in a row, calls now fail fast with CircuitOpen"
	case to == breaker.Open:
		return ": the PING failed, open again, for longer"
	case to == breaker.HalfOpen:
		return ": open time over, the breaker PINGs the node"
	case to == breaker.Closed && from == breaker.HalfOpen:
		return ": the PING succeeded, traffic flows again"
	}
	return ""
}

// closings is the number of times a breaker closed after a PING.
func (s *stats) closings() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.trans["half-open->closed"]
}

// transitions lists the breaker transitions seen, the usual ones first.
func (s *stats) transitions() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	usual := []string{"closed->open", "open->half-open", "half-open->open", "half-open->closed"}
	var parts []string
	for _, k := range usual {
		parts = append(parts, fmt.Sprintf("%s=%d", k, s.trans[k]))
	}
	var other []string
	for k, n := range s.trans {
		if !contains(usual, k) {
			other = append(other, fmt.Sprintf("%s=%d", k, n))
		}
	}
	sort.Strings(other)
	return strings.Join(append(parts, other...), " ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// snapshot is a copy of the counters at one moment.
type snapshot struct {
	seen                                                      [numOps][numClasses]int64
	misses, fastFails                                         int64
	slowestFastFail                                           time.Duration
	retries, recovered, gaveUp, refused, fallbacks, swallowed int64
}

func (s *stats) snapshot() snapshot {
	var n snapshot
	for o := range numOps {
		for c := range numClasses {
			n.seen[o][c] = s.seen[o][c].Load()
		}
	}
	n.misses = s.misses.Load()
	n.fastFails = s.fastFails.Load()
	n.slowestFastFail = time.Duration(s.slowestFastFail.Load())
	n.retries = s.retries.Load()
	n.recovered = s.recovered.Load()
	n.gaveUp = s.gaveUp.Load()
	n.refused = s.refused.Load()
	n.fallbacks = s.fallbacks.Load()
	n.swallowed = s.swallowed.Load()
	return n
}

// sub returns the counts since the earlier snapshot m. slowestFastFail is
// kept: it is a maximum, not a count.
func (n snapshot) sub(m snapshot) snapshot {
	for o := range numOps {
		for c := range numClasses {
			n.seen[o][c] -= m.seen[o][c]
		}
	}
	n.misses -= m.misses
	n.fastFails -= m.fastFails
	n.retries -= m.retries
	n.recovered -= m.recovered
	n.gaveUp -= m.gaveUp
	n.refused -= m.refused
	n.fallbacks -= m.fallbacks
	n.swallowed -= m.swallowed
	return n
}

// ok is the number of o calls that returned nil (or redis.Nil).
func (n snapshot) ok(o op) int64 { return n.seen[o][retryable.OK] }

// failed is the number of o calls that returned an error.
func (n snapshot) failed(o op) int64 {
	var sum int64
	for c := range numClasses {
		if retryable.Class(c) != retryable.OK {
			sum += n.seen[o][c]
		}
	}
	return sum
}

// classes lists the results of o calls by class, for example
// "OK=540 Connection=3 CircuitOpen=49".
func (n snapshot) classes(o op) string { return n.list(o, true) }

// failures lists the failed o calls by class, for example
// "Connection=3 CircuitOpen=49", or "none".
func (n snapshot) failures(o op) string { return n.list(o, false) }

func (n snapshot) list(o op, withOK bool) string {
	var parts []string
	for _, c := range retryable.Classes() {
		if c == retryable.OK && !withOK {
			continue
		}
		if v := n.seen[o][c]; v > 0 {
			parts = append(parts, fmt.Sprintf("%v=%d", c, v))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}
