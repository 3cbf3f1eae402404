// Package procs starts the local stack's child processes (the Lambda Runtime
// Interface Emulator, moto) so that none outlives the process that started it.
package procs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start runs name with args in its own process group, with stdout and stderr
// going to w. On Linux the child is killed if this process dies, so a crashed
// test or gateway leaves no orphan.
func Start(name string, args []string, env []string, w io.Writer) (*exec.Cmd, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", filepath.Base(name), err)
	}
	return cmd, nil
}

// Stop sends SIGTERM to cmd's process group, then SIGKILL after grace, and
// waits for the process to be reaped.
func Stop(cmd *exec.Cmd, done <-chan struct{}, grace time.Duration) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	pgid := -cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-done
	}
	_ = syscall.Kill(pgid, syscall.SIGKILL) // grandchildren that ignored SIGTERM
}

// WaitTCP waits until addr accepts a TCP connection, ctx ends, or exited is
// closed (the process died before listening).
func WaitTCP(ctx context.Context, addr string, exited <-chan struct{}) error {
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", addr, ctx.Err())
		case <-exited:
			return fmt.Errorf("wait for %s: process exited", addr)
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// ModuleRoot returns the folder holding go.mod, searching upward from the
// working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Tool finds an executable: the environment variable envVar if set, else
// .tools/bin/name under the module root (where the Makefile installs tools),
// else name on PATH.
func Tool(envVar, name string) (string, error) {
	if p := os.Getenv(envVar); p != "" {
		return p, nil
	}
	if root, err := ModuleRoot(); err == nil {
		p := filepath.Join(root, ".tools", "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found: run `make tools` (or set %s)", name, envVar)
	}
	return p, nil
}

// Addr formats a loopback address.
func Addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
