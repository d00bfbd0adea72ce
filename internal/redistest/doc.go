// Package redistest starts throwaway redis-server processes, replicas,
// clusters, sentinels and a fault-injecting TCP proxy for integration
// tests, and reads the servers' own counters.
//
// Every server listens on a free 127.0.0.1 port (never 6379), keeps its data
// and its log in a t.TempDir, persists nothing, and is killed by t.Cleanup,
// even when the test failed. A missing redis-server binary fails the test;
// it never skips.
//
// Functions and methods that take a testing.TB call its Fatal methods, so
// they must run on the goroutine of that test, as the testing package
// requires. Methods without a testing.TB (Kill, Freeze, Thaw, the Proxy's
// switches) are safe for concurrent use and report problems with Errorf.
package redistest
