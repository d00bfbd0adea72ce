// Package breaker keeps Redis nodes that are failing from being hammered:
// a circuit breaker per node on github.com/sony/gobreaker/v2, and a retry
// budget and an admission limit on golang.org/x/time/rate.
//
// It does not import go-redis: callers tell it what counts as a failure.
package breaker
