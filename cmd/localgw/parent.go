package main

import (
	"context"
	"os"
	"time"
)

// watchParent calls gone once the process that started localgw has exited
// (its parent process id is no longer ppid: the orphan was re-parented), and
// returns when ctx ends. `go run` and some process supervisors die on
// SIGTERM without passing it on; the stack must not outlive them.
func watchParent(ctx context.Context, ppid int, every time.Duration, gone func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if os.Getppid() != ppid {
			gone()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
