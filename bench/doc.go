// Command bench runs this library against what a Go team would use
// instead (go-redis alone, failsafe-go, cenkalti/backoff), side by side,
// under real faults: redis-server processes on loopback that are killed,
// frozen, failed over or clustered, and network faults from an in-process
// Toxiproxy. It writes a report with tables and charts.
//
//	go run ./bench            (from the repository root, through go.work)
//	cd bench && go run . -quick
//
// The module also holds the benchmarks and fault tests of the library.
package main
