// Package bench holds the benchmarks and comparative fault scenarios of
// retryable. It is its own module so that what only measurements need
// stays out of the library's go.mod.
package bench
