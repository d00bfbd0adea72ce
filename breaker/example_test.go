package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-retryable/retryable/breaker"
	"github.com/sony/gobreaker/v2"
)

// A breaker used on its own, with no engine probe: once the open time is
// up, the next caller is the probe.
func ExampleBreaker() {
	b, err := breaker.New("10.0.0.1:6379", breaker.Settings{
		ConsecutiveFailures: 3,
		OpenTimeout:         20 * time.Millisecond, // first open time: 10-20 ms
		OnStateChange: func(node string, from, to breaker.State) {
			fmt.Printf("%s: %v -> %v\n", node, from, to)
		},
	})
	if err != nil {
		panic(err)
	}

	// Three calls fail in a row: the breaker opens.
	for range 3 {
		ticket, err := b.Allow()
		if err != nil {
			panic(err)
		}
		b.Done(ticket, breaker.Failure) // the caller classified the error
	}

	// The next call is refused at once, and says for how long.
	_, err = b.Allow()
	open, _ := errors.AsType[*breaker.OpenError](err)
	fmt.Println(errors.Is(err, gobreaker.ErrOpenState), open.RetryIn > 0 && open.RetryIn <= 20*time.Millisecond)

	// After the open time, one caller goes through; its success closes it.
	time.Sleep(b.RetryIn())
	ticket, err := b.Allow()
	fmt.Println(err)
	b.Done(ticket, breaker.Success)

	// An operator can isolate the node by hand.
	b.ForceOpen()
	_, err = b.Allow()
	fmt.Println(err)
	b.Release()
	// Output:
	// 10.0.0.1:6379: closed -> open
	// true true
	// 10.0.0.1:6379: open -> half-open
	// <nil>
	// 10.0.0.1:6379: half-open -> closed
	// 10.0.0.1:6379: closed -> open
	// breaker: 10.0.0.1:6379: circuit breaker is open
	// 10.0.0.1:6379: open -> closed
}

// An engine probe, as the hooks register one per client: while it is
// registered, no caller is ever a probe; the breaker PINGs the node itself
// when the open time is up, and closes as soon as the node answers.
func ExampleBreaker_AddProbe() {
	changes := make(chan string, 10)
	b, err := breaker.New("10.0.0.1:6379", breaker.Settings{
		ConsecutiveFailures: 1,
		OnStateChange: func(_ string, from, to breaker.State) {
			changes <- fmt.Sprintf("%v -> %v", from, to)
		},
	})
	if err != nil {
		panic(err)
	}

	pings := 0
	remove := b.AddProbe(func(ctx context.Context) breaker.Outcome {
		pings++ // one probe at a time: no data race
		if pings < 3 {
			return breaker.Failure // still down: open again, for longer
		}
		return breaker.Success
	})
	defer remove() // when the client is closed

	ticket, _ := b.Allow()
	b.Done(ticket, breaker.Failure)
	for { // every call is refused until a PING closes the breaker
		ticket, err := b.Allow()
		if err == nil {
			b.Done(ticket, breaker.Success)
			break
		}
		time.Sleep(time.Millisecond)
	}
	for range 7 {
		fmt.Println(<-changes)
	}
	fmt.Println("pings:", pings, "level:", b.Counts().Level)
	// Output:
	// closed -> open
	// open -> half-open
	// half-open -> open
	// open -> half-open
	// half-open -> open
	// open -> half-open
	// half-open -> closed
	// pings: 3 level: 3
}

func ExampleBudget() {
	budget, err := breaker.NewBudget(breaker.BudgetSettings{
		Ratio:        0.1, // retries may add 10% to the load
		MinPerSecond: 0.1, // and one every 10 s whatever the traffic
	})
	if err != nil {
		panic(err)
	}

	// 100 calls, every one failing and trying to retry 3 times: an outage.
	lastErr := errors.New("dial tcp: connection refused")
	var refusal error
	for range 100 {
		budget.Request() // a first attempt
		for range 3 {
			if !budget.AllowRetry() {
				refusal = &breaker.ThrottledError{Reason: breaker.ReasonBudget, Last: lastErr}
				break
			}
		}
	}
	requests, retries, refused := budget.Stats()
	fmt.Println(requests, retries, refused)
	fmt.Println(refusal)
	fmt.Println(errors.Is(refusal, breaker.ErrThrottled))

	// A retry that was allowed but not run (its delay would outlast the
	// deadline) goes back to the budget.
	budget.Refund()
	_, retries, _ = budget.Stats()
	fmt.Println(retries, budget.AllowRetry())
	// Output:
	// 100 11 100
	// breaker: throttled: retry budget exhausted: dial tcp: connection refused
	// true
	// 10 true
}

func ExampleLimiter() {
	// One call per minute, in bursts of at most 2; refuse, do not wait.
	limiter, err := breaker.NewLimiter(1.0/60, 2, false)
	if err != nil {
		panic(err)
	}
	for range 3 {
		fmt.Println(limiter.Admit(context.Background()))
	}
	// Output:
	// <nil>
	// <nil>
	// breaker: throttled: rate limit
}
