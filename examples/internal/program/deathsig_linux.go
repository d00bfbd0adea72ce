package program

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill cmd when this program exits, however
// it exits, so that a killed example leaves no redis-server behind. (Linux
// sends the signal when the thread that started cmd ends; Go ends threads
// only with the process, unless a goroutine that locked one returns.)
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
