//go:build race

package main

// raceEnabled reports whether the race detector instruments this binary;
// it distorts timing, so throughput ratios are only logged then.
const raceEnabled = true
