package policytest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
)

// Between returns the calls that started in [from, to), in their order.
func Between(calls []Call, from, to time.Time) []Call {
	return within(calls, func(c Call) time.Time { return c.Start }, from, to)
}

// within returns the elements of xs whose time is in [from, to).
func within[T any](xs []T, at func(T) time.Time, from, to time.Time) []T {
	var out []T
	for _, x := range xs {
		if t := at(x); !t.Before(from) && t.Before(to) {
			out = append(out, x)
		}
	}
	return out
}

// Failed returns the calls whose class is not OK, in their order: a miss
// (redis.Nil) is an answer, not a failure.
func Failed(calls []Call) []Call {
	var out []Call
	for _, c := range calls {
		if c.Class != retryable.OK {
			out = append(out, c)
		}
	}
	return out
}

// CountClasses counts calls by class.
func CountClasses(calls []Call) map[retryable.Class]int {
	m := make(map[retryable.Class]int)
	for _, c := range calls {
		m[c.Class]++
	}
	return m
}

// ClassSummary renders counts by class as "OK=12 CircuitOpen=3", in the
// order of retryable.Classes, leaving out the classes with none.
func ClassSummary(m map[retryable.Class]int) string {
	var parts []string
	for _, c := range retryable.Classes() {
		if m[c] > 0 {
			parts = append(parts, fmt.Sprintf("%v=%d", c, m[c]))
		}
	}
	return strings.Join(parts, " ")
}

// PerWorker counts, for each worker from 0 to workers-1, its calls that
// match; a nil match counts the calls of class OK. Calls of other workers
// are left out.
func PerWorker(calls []Call, workers int, match func(Call) bool) []int {
	if match == nil {
		match = func(c Call) bool { return c.Class == retryable.OK }
	}
	n := make([]int, workers)
	for _, c := range calls {
		if c.Worker >= 0 && c.Worker < workers && match(c) {
			n[c.Worker]++
		}
	}
	return n
}

// Latencies returns how long each call took, in the order of calls.
func Latencies(calls []Call) []time.Duration {
	ds := make([]time.Duration, len(calls))
	for i, c := range calls {
		ds[i] = c.Took
	}
	return ds
}

// Quantile returns the q-quantile of ds, q from 0 (the least) to 1 (the
// greatest), by the nearest rank below: the element at index
// int(q*(len(ds)-1)) of ds in order. It returns 0 for no durations and
// leaves ds as it is.
func Quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(min(max(q, 0), 1) * float64(len(s)-1))
	return s[i]
}

// DistinctErrors returns the first n distinct messages of the calls'
// errors, nil and redis.Nil left out, for failure messages.
func DistinctErrors(calls []Call, n int) []string {
	var out []string
	for _, c := range calls {
		if len(out) >= n {
			break
		}
		if c.Err == nil || errors.Is(c.Err, redis.Nil) {
			continue
		}
		if msg := c.Err.Error(); !slices.Contains(out, msg) {
			out = append(out, msg)
		}
	}
	return out
}
