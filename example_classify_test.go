package retryable_test

import (
	"context"
	"fmt"
	"io"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
)

// Fail fast or retry: what to do after INCR (a command that must not run
// twice) failed with each error. Recoverable classes are retried, but only
// when the failure proves the INCR did not run.
func ExampleClassify() {
	incr := retryable.Info{Kind: retryable.Unsafe}
	errs := []error{
		redis.Nil,
		context.Canceled,
		redis.TxFailedErr,
		redis.ErrPoolTimeout,
		io.EOF,
		fmt.Errorf("incr visits: %w", io.EOF),
		&breaker.OpenError{Node: "node-a", Err: gobreaker.ErrOpenState},
	}
	for _, err := range errs {
		class := retryable.Classify(err)
		exec := incr.Executed(err)
		var decision string
		switch {
		case class == retryable.OK:
			decision = "done"
		case !class.Recoverable():
			decision = "fail fast"
		case exec != retryable.NotExecuted:
			decision = "fail fast: it may have run"
		default:
			decision = "retry later"
		}
		fmt.Printf("%-42s %-12v %-13v %s\n", err, class, exec, decision)
	}
	// Output:
	// redis: nil                                 OK           completed     done
	// context canceled                           Canceled     ambiguous     fail fast
	// redis: transaction failed                  Response     not executed  fail fast
	// redis: connection pool timeout             Connection   not executed  retry later
	// EOF                                        Connection   ambiguous     fail fast: it may have run
	// incr visits: EOF                           Connection   ambiguous     fail fast: it may have run
	// breaker: node-a: circuit breaker is open   CircuitOpen  not executed  retry later
}
