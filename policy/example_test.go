package policy_test

import (
	"context"
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
	f := p.Describe(err, args...)
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
	base, err := policy.New(policy.RetryOn(retryable.Connection), policy.MaxAttempts(3),
		policy.Backoff(backoff.Constant(20*time.Millisecond)))
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
	decide(base, io.EOF, "get", "k")
	decide(fast, io.EOF, "get", "k")

	_, err = base.With(policy.MaxElapsed(-time.Second))
	fmt.Println(err)
	// Output:
	// get after EOF (Connection, ambiguous): retry in 20ms
	// get after EOF (Connection, ambiguous): give up: attempts exhausted
	// policy: MaxElapsed: negative duration -1s
}

func ExampleDefault() {
	p := policy.Default()
	fmt.Println("breakers:", p.Breakers() != nil)

	timeout := p.Describe(os.ErrDeadlineExceeded, "get", "k")
	timeout.Class, timeout.Execution = retryable.Timeout, retryable.Ambiguous // a read timeout
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
	// breakers: true
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

// Command names are checked: a name the command table does not know is
// taken for a typo, unless it is declared as a module's command.
func ExampleKnownCommands() {
	_, err := policy.New(policy.MarkIdempotent("json.set"))
	fmt.Println(err)

	p, err := policy.New(
		policy.RetryOn(retryable.Connection),
		policy.MaxAttempts(2),
		policy.KnownCommands("json.set"),
		policy.MarkIdempotent("json.set"),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	decide(p, io.EOF, "json.set", "doc", "$", `{"a":1}`)
	// Output:
	// policy: MarkIdempotent/MarkUnsafe: unknown command "json.set" (a typo? declare module commands with policy.KnownCommands)
	// json.set after EOF (Connection, ambiguous): retry in 0s
}

// A policy that cannot do what its options ask is an error, not a policy
// that silently retries nothing.
func ExampleMaxAttempts() {
	_, err := policy.New(policy.MaxAttempts(5))
	fmt.Println(err)
	_, err = policy.New(policy.LogAndContinue())
	fmt.Println(err)
	// Output:
	// policy: MaxAttempts(5) retries nothing: add RetryOn or RetryIf
	// policy: LogAndContinue: no command named
}

func ExampleLogAndContinue() {
	// Cache fills are best effort: log their final failure and go on.
	_, err := policy.New(
		policy.RetryOn(retryable.Connection),
		policy.Logger(slog.Default()),
		policy.LogAndContinue("SET", "EXPIRE"),
	)
	fmt.Println(err)
	// Pipelines report each command's own error instead.
	_, err = policy.New(policy.LogAndContinue("pipeline"))
	fmt.Println(err)
	// Output:
	// <nil>
	// policy: LogAndContinue(pipeline): fallbacks and log-and-continue apply to single commands, not to "pipeline"
}

func ExampleFallback() {
	// Serve a default page when Redis is out of reach. A real fallback
	// type-asserts cmd (to *redis.StringCmd, say) and sets its value; the
	// hooks package's examples show one running.
	serveDefault := func(ctx context.Context, cmd policy.Cmd, err error) error {
		return nil
	}
	_, err := policy.New(
		policy.RetryOn(retryable.Connection),
		policy.MaxAttempts(2),
		policy.Command([]string{"get"}, policy.Fallback(serveDefault)),
	)
	fmt.Println(err)
	// Output:
	// <nil>
}

func ExampleEvent_LogValue() {
	e := policy.Event{Kind: policy.GaveUp, Command: "incr", Node: "10.0.0.7:6379", Attempt: 1,
		Reason: policy.Unsafe, Class: retryable.Connection, Err: io.EOF}
	h := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	slog.New(h).Info("call failed", "retry", e)
	// Output:
	// level=INFO msg="call failed" retry.event="gave up" retry.command=incr retry.node=10.0.0.7:6379 retry.attempt=1 retry.reason="unsafe to repeat" retry.class=Connection retry.error=EOF
}
