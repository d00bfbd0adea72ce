// Package conformance holds the tools of scripts/conformance.sh, which runs
// go-redis's own ginkgo suite bare and with the retry hook installed on every
// client the suite builds, and compares the two runs spec by spec.
//
//   - rewrite (a command) turns the constructor calls in a copy of the
//     suite's package redis_test files into calls of the wrappers in
//     testdata/hooked_test.go;
//   - compare (a command) reads the ginkgo JSON reports of the runs and
//     prints the specs that pass bare and fail hooked;
//   - testdata/hooked_test.go is copied into the suite: the wrappers call
//     the real constructor, then hooks.Install with the policy named by
//     CONFORMANCE_POLICY.
//
// No go-redis code lives here: the script copies the suite from the module
// cache at run time.
package conformance
