// Package backoff computes how long to wait before each retry of a failed
// call.
//
// A [Strategy] is a pure function of the attempt number and of the delay it
// returned last, so a single value, shared by every goroutine and every
// client, needs no per-call state and no Reset. Attempt 1 is the first
// retry (the call after the first failure); the previous delay is 0 before
// the first retry.
//
// The basic strategies are [Constant], [Linear], [Exponential] and
// [Decorrelated] (the AWS "decorrelated jitter" formula); [Func] adapts any
// function. [FullJitter] and [EqualJitter] decorate any strategy with the
// AWS "Exponential Backoff And Jitter" formulas, so jitter composes with
// every schedule:
//
//	s := backoff.FullJitter(backoff.NewExponential(10*time.Millisecond, 2*time.Second, 2))
//
// No strategy returns a negative delay or overflows, whatever the attempt
// number or settings. Constructors never panic: a bad setting is reported
// by [Validate], which a policy calls when it is built, and until then the
// strategy clamps its result into a sane range.
//
// Randomised strategies draw from math/rand/v2's goroutine-safe top-level
// generator unless given a [Rand] with WithRand, which makes tests
// deterministic.
package backoff
