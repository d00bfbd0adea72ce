//go:build !linux

package program

import "os/exec"

// dieWithParent does nothing outside Linux: the examples' deferred Close
// calls and their interrupt handling stop the servers they start.
func dieWithParent(*exec.Cmd) {}
