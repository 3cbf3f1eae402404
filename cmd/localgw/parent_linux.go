package main

import "syscall"

// signalOnParentDeath asks the kernel to send localgw SIGTERM when its
// parent exits (prctl PR_SET_PDEATHSIG), which the SIGTERM handler turns
// into a clean shutdown. [watchParent] covers a parent that died before the
// call, and other systems.
func signalOnParentDeath() error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0); errno != 0 {
		return errno
	}
	return nil
}
