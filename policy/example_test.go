package policy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/policy"
)

// decide shows what p does after the first attempt of the command line args
// failed with err, as the hooks package asks it.
func decide(p policy.Policy, err error, args ...any) {
	f := policy.Failure{
		Command:   args[0].(string),
		Attempt:   1,
		Err:       err,
		Class:     retryable.Classify(err),
		Execution: retryable.Executed(err),
		Info:      p.Lookup(args),
	}
	d, why := p.Decide(f, 0)
	if why == policy.Retry {
		fmt.Printf("%s after %v (%v, %v): retry in %v\n", f.Command, err, f.Class, f.Execution, d)
		return
	}
	fmt.Printf("%s after %v (%v, %v): give up: %v\n", f.Command, err, f.Class, f.Execution, why)
}

// A connection that drops after the command was written (io.EOF) leaves it
// unknown whether the command ran: GET is retried, INCR is not, since it
// could count twice.
func ExampleNew() {
	p, err := policy.New(
		policy.RetryOn(retryable.Connection, retryable.ReadOnly, retryable.ClusterDown),
		policy.MaxAttempts(3),
		policy.Backoff(backoff.NewExponential(10*time.Millisecond, time.Second, 2)),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	decide(p, io.EOF, "get", "page:home")
	decide(p, io.EOF, "incr", "visits")

	// A refused connection proves INCR never ran: it is retried too.
	refused := &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}
	decide(p, refused, "incr", "visits")

	// Bad settings are errors, not panics.
	_, err = policy.New(policy.MaxAttempts(0))
	fmt.Println(err)
	// Output:
	// get after EOF (Connection, ambiguous): retry in 10ms
	// incr after EOF (Connection, ambiguous): give up: unsafe to repeat
	// incr after connect: connection refused (Connection, not executed): retry in 10ms
	// policy: MaxAttempts: 0 attempts: must be at least 1 (1 means no retries)
}

func ExamplePolicy_With() {
	base, err := policy.New(policy.RetryOn(retryable.Connection), policy.MaxAttempts(3))
	if err != nil {
		fmt.Println(err)
		return
	}
	// A copy for latency-sensitive callers; base is unchanged.
	fast, err := base.With(policy.MaxAttempts(1))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("base:", base.MaxAttempts("get"), "attempts")
	fmt.Println("fast:", fast.MaxAttempts("get"), "attempt")

	_, err = base.With(policy.MaxElapsed(-time.Second))
	fmt.Println(err)
	// Output:
	// base: 3 attempts
	// fast: 1 attempt
	// policy: MaxElapsed: negative duration -1s
}

func ExampleDefault() {
	p := policy.Default()
	fmt.Println("attempts:", p.MaxAttempts("get"))
	fmt.Println("breakers:", p.Breakers() != nil, "budget:", p.Budget() != nil)

	timeout := policy.Failure{Command: "get", Attempt: 1, Class: retryable.Timeout,
		Execution: retryable.Ambiguous, Info: p.Lookup([]any{"get", "k"})}
	d, why := p.Decide(timeout, 0)
	fmt.Println("GET timeout:", why, d <= policy.DefaultBaseDelay)

	wrongType := timeout
	wrongType.Class, wrongType.Execution = retryable.Response, retryable.NotExecuted
	_, why = p.Decide(wrongType, 0)
	fmt.Println("GET WRONGTYPE:", why)

	timeout.Attempt = policy.DefaultMaxAttempts
	_, why = p.Decide(timeout, 0)
	fmt.Println("third GET timeout:", why)
	// Output:
	// attempts: 3
	// breakers: true budget: true
	// GET timeout: retry true
	// GET WRONGTYPE: class not retried
	// third GET timeout: attempts exhausted
}

// XADD with an explicit ID is idempotent, but a stream writer may prefer to
// fail fast and let its caller decide; GET keeps retrying.
func ExampleCommand() {
	p, err := policy.New(
		policy.RetryOn(retryable.Connection),
		policy.MaxAttempts(3),
		policy.Backoff(backoff.Constant(50*time.Millisecond)),
		policy.Command([]string{"XADD"}, policy.MaxAttempts(1)),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	refused := &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}
	decide(p, refused, "xadd", "events", "1-1", "type", "click")
	decide(p, refused, "get", "page:home")
	// Output:
	// xadd after connect: connection refused (Connection, not executed): give up: attempts exhausted
	// get after connect: connection refused (Connection, not executed): retry in 50ms
}

func ExampleLogAndContinue() {
	p, err := policy.New(
		policy.RetryOn(retryable.Connection),
		policy.Logger(slog.Default()),
		// Cache fills are best effort: log their final failure and go on.
		policy.LogAndContinue("SET", "EXPIRE"),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, cmd := range []string{"set", "expire", "get"} {
		fmt.Println(cmd, "swallows its failure:", p.Swallows(cmd))
	}
	// Output:
	// set swallows its failure: true
	// expire swallows its failure: true
	// get swallows its failure: false
}

func ExampleFallback() {
	// Serve a default page when Redis is out of reach. A real fallback
	// type-asserts cmd (to *redis.StringCmd, say) and sets its value.
	serveDefault := func(ctx context.Context, cmd policy.Cmd, err error) error {
		return nil
	}
	p, err := policy.New(
		policy.RetryOn(retryable.Connection),
		policy.MaxAttempts(2),
		policy.Command([]string{"get"}, policy.Fallback(serveDefault)),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("get has a fallback:", p.Fallback("get") != nil)
	fmt.Println("set has a fallback:", p.Fallback("set") != nil)
	fmt.Println("fallback result:", p.Fallback("get")(context.Background(), nil, errors.New("dial tcp: connection refused")))
	// Output:
	// get has a fallback: true
	// set has a fallback: false
	// fallback result: <nil>
}

func ExampleNoRetry() {
	ctx := context.Background()
	// A health check wants the truth now, not after three attempts.
	probe := policy.NoRetry(ctx)
	fmt.Println(policy.RetriesDisabled(probe), policy.RetriesDisabled(ctx))
	// Output:
	// true false
}
