package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/examples/internal/examplestest"
)

func TestMain(m *testing.M) { examplestest.Main(m) }

// stats counts what callers saw by class; a miss (redis.Nil) is OK.
func Example_stats() {
	s := newStats()
	s.saw(opGet, nil, 0)
	s.saw(opGet, redis.Nil, 0)
	s.saw(opIncr, &breaker.OpenError{Node: "127.0.0.1:6379", Err: errors.New("open")}, 0)
	n := s.snapshot()
	fmt.Println("GET:", n.classes(opGet))
	fmt.Println("INCR failures:", n.failures(opIncr))
	fmt.Println(transitionNote(breaker.Closed, breaker.Open))
	// Output:
	// GET: OK=2
	// INCR failures: CircuitOpen=1
	// : too many failed calls in a row, calls now fail fast with CircuitOpen
}
