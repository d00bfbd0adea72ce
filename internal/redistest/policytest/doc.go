// Package policytest drives load through a policy under test and records
// what the policy reports, for integration tests of the hooks.
//
// [StartLoad] runs a function on a few goroutines and records every call
// with its latency and the [retryable.Class] of its error; functions such
// as [Between], [CountClasses] and [Quantile] slice and summarize the
// calls. A [Recorder] collects a policy's events and its breakers' state
// changes.
//
// It is a package of its own, not part of redistest, because it imports
// the retryable package, whose in-package tests import redistest: in
// redistest it would make an import cycle.
package policytest
