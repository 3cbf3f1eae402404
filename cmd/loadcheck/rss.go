package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/apigw-guard/guard/internal/gateway/stack"
)

// rssSamples is one process's resident memory over the run, in KiB.
type rssSamples struct {
	// Start is before the load, Warm the first sample after a quarter of
	// the run (the heap has grown to its working size), End after the run.
	Start, Warm, End, Max int
	PIDs                  []int `json:"pids"` // more than one: the process was restarted
}

func (s rssSamples) note() string {
	if len(s.PIDs) > 1 {
		return fmt.Sprintf(" (restarted: pids %v)", s.PIDs)
	}
	return ""
}

// rssWatch samples the function processes of a stack: the bootstrap each
// emulator runs, and the emulator itself.
type rssWatch struct {
	s       *stack.Stack
	samples map[string]rssSamples
	warmAt  time.Time
}

func newRSSWatch(s *stack.Stack, warmAt time.Time) *rssWatch {
	return &rssWatch{s: s, samples: map[string]rssSamples{}, warmAt: warmAt}
}

func (w *rssWatch) sample() {
	for _, id := range w.s.Template.FunctionIDs() {
		f := w.s.Function(id)
		if f == nil {
			continue
		}
		emu := f.PID()
		w.add(id+" (emulator)", emu)
		for _, pid := range childPIDs(emu) {
			w.add(id, pid)
		}
	}
}

func (w *rssWatch) add(name string, pid int) {
	kib, ok := rssKiB(pid)
	if !ok {
		return
	}
	s, seen := w.samples[name]
	if !seen {
		s.Start = kib
	}
	if s.Warm == 0 && !time.Now().Before(w.warmAt) {
		s.Warm = kib
	}
	s.End = kib
	s.Max = max(s.Max, kib)
	if len(s.PIDs) == 0 || s.PIDs[len(s.PIDs)-1] != pid {
		s.PIDs = append(s.PIDs, pid)
	}
	w.samples[name] = s
}

// rssKiB reads VmRSS from /proc/pid/status.
func rssKiB(pid int) (int, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, err := strconv.Atoi(f[0])
				return n, err == nil
			}
		}
	}
	return 0, false
}

// childPIDs lists the children of pid from /proc.
func childPIDs(pid int) []int {
	var out []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		n, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b) // pid (comm) state ppid ...; comm may hold spaces
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		if f := strings.Fields(s[i+1:]); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, n)
		}
	}
	return out
}
