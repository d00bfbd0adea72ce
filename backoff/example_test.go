package backoff_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/go-retryable/retryable/backoff"
)

func ExampleExponential() {
	s := backoff.NewExponential(100*time.Millisecond, 2*time.Second, 2)
	for attempt := 1; attempt <= 6; attempt++ {
		fmt.Println(s.Delay(attempt, 0))
	}
	// Output:
	// 100ms
	// 200ms
	// 400ms
	// 800ms
	// 1.6s
	// 2s
}

func ExampleConstant() {
	s := backoff.Constant(250 * time.Millisecond)
	for attempt := 1; attempt <= 3; attempt++ {
		fmt.Println(s.Delay(attempt, 0))
	}
	// Output:
	// 250ms
	// 250ms
	// 250ms
}

func ExampleLinear() {
	s := backoff.NewLinear(100*time.Millisecond, 150*time.Millisecond, 500*time.Millisecond)
	for attempt := 1; attempt <= 5; attempt++ {
		fmt.Println(s.Delay(attempt, 0))
	}
	// Output:
	// 100ms
	// 250ms
	// 400ms
	// 500ms
	// 500ms
}

func ExampleFullJitter() {
	// A seeded source makes the output reproducible; in production leave
	// the default, which is safe for concurrent use.
	s := backoff.FullJitter(backoff.NewExponential(100*time.Millisecond, 2*time.Second, 2)).
		WithRand(rand.New(rand.NewPCG(1, 2)))
	for attempt := 1; attempt <= 6; attempt++ {
		fmt.Println(s.Delay(attempt, 0).Round(time.Millisecond))
	}
	// Output:
	// 77ms
	// 123ms
	// 314ms
	// 637ms
	// 375ms
	// 82ms
}

func ExampleEqualJitter() {
	s := backoff.EqualJitter(backoff.Constant(time.Second)).WithRand(rand.New(rand.NewPCG(1, 2)))
	for attempt := 1; attempt <= 3; attempt++ {
		fmt.Println(s.Delay(attempt, 0).Round(time.Millisecond))
	}
	// Output:
	// 885ms
	// 808ms
	// 892ms
}

func ExampleDecorrelated() {
	s := backoff.NewDecorrelated(100*time.Millisecond, 2*time.Second).WithRand(rand.New(rand.NewPCG(1, 2)))
	var prev time.Duration // 0 before the first retry
	for attempt := 1; attempt <= 6; attempt++ {
		prev = s.Delay(attempt, prev)
		fmt.Println(prev.Round(time.Millisecond))
	}
	// Output:
	// 254ms
	// 508ms
	// 1.217s
	// 2s
	// 1.482s
	// 279ms
}

func ExampleFunc() {
	// A fixed schedule; the last delay repeats.
	schedule := []time.Duration{50 * time.Millisecond, 200 * time.Millisecond, time.Second}
	s := backoff.Func(func(attempt int, _ time.Duration) time.Duration {
		return schedule[min(max(attempt, 1), len(schedule))-1]
	})
	for attempt := 1; attempt <= 4; attempt++ {
		fmt.Println(s.Delay(attempt, 0))
	}
	// Output:
	// 50ms
	// 200ms
	// 1s
	// 1s
}

func ExampleValidate() {
	s := backoff.FullJitter(backoff.NewExponential(10*time.Millisecond, 5*time.Millisecond, 2))
	fmt.Println(backoff.Validate(s))
	fmt.Println(backoff.Validate(backoff.NewExponential(10*time.Millisecond, time.Second, 2)))
	// Output:
	// backoff: Exponential: max (5ms) is below base (10ms)
	// <nil>
}
