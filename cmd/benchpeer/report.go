package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

// rate is operations per CPU-second, or per wall-second when the CPU time
// is unknown.
func (r result) rate() float64 {
	if r.CPUNs > 0 {
		return float64(r.Ops) / (float64(r.CPUNs) / 1e9)
	}
	if r.WallNs > 0 {
		return float64(r.Ops) / (float64(r.WallNs) / 1e9)
	}
	return 0
}

func (r result) wallRate() float64 {
	if r.WallNs == 0 {
		return 0
	}
	return float64(r.Ops) / (float64(r.WallNs) / 1e9)
}

// best keeps the fastest of several rounds.
type best struct {
	verify, floor result
	runtime       string
	rounds        int
}

func better(a, b result) result {
	if b.rate() > a.rate() {
		return b
	}
	return a
}

// report prints the comparison of the JSON lines in path.
func report(path string, w io.Writer) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	got := map[string]*best{} // side+"/"+alg
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var l line
		if err := json.Unmarshal([]byte(text), &l); err != nil {
			return fmt.Errorf("%s: %q: %w", path, text, err)
		}
		k := l.Side + "/" + l.Alg
		b := got[k]
		if b == nil {
			b = &best{runtime: l.Runtime}
			got[k] = b
		}
		b.rounds++
		b.verify = better(b.verify, l.Verify)
		if l.Floor != nil {
			b.floor = better(b.floor, *l.Floor)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}

	var goRT, nodeRT string
	rounds := 0
	for k, b := range got {
		if strings.HasPrefix(k, "go/") {
			goRT, rounds = b.runtime, max(rounds, b.rounds)
		} else {
			nodeRT = b.runtime
		}
	}
	fmt.Fprintf(w, "Machine: %s, %d CPUs; %s; Node %s (aws-jwt-verify %s). One core each, best of %d rounds.\n",
		cpuModel(), runtime.NumCPU(), goRT, orNone(nodeRT), orNone(os.Getenv("PEER_VERSION")), rounds)
	fmt.Fprintln(w, "Rates are operations per CPU-second of the process (wall-clock rate in brackets).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| alg | guard verify/s | ns/op (CPU) | allocs/op | floor/s | guard/floor | aws-jwt-verify/s | guard/peer |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	ratio := map[string][2]float64{} // alg -> guard/floor, guard/peer
	rates := map[string]float64{}
	for _, alg := range algs {
		g := got["go/"+alg]
		if g == nil {
			continue
		}
		gr, fr := g.verify.rate(), g.floor.rate()
		rates[alg] = gr
		peer, peerRatio := "n/a", "n/a"
		pr := 0.0
		if n := got["node/"+alg]; n != nil {
			pr = n.verify.rate()
			peer = fmt.Sprintf("%s (%s)", count(pr), count(n.verify.wallRate()))
			peerRatio = fmt.Sprintf("%.2f", gr/pr)
		}
		ratio[alg] = [2]float64{gr / fr, safeDiv(gr, pr)}
		fmt.Fprintf(w, "| %s | %s (%s) | %.0f | %.1f | %s (%s) | %.2f | %s | %s |\n",
			alg, count(gr), count(g.verify.wallRate()), 1e9/gr, g.verify.Allocs,
			count(fr), count(g.floor.wallRate()), gr/fr, peer, peerRatio)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Targets (issue 10):")
	check := func(name string, got, want float64, unit string) {
		verdict := "met"
		if got == 0 {
			verdict = "not measured"
		} else if got < want {
			verdict = "NOT MET"
		}
		fmt.Fprintf(w, "  %-36s %10s  (target >= %s%s)  %s\n", name, format(got, unit), format(want, unit), "", verdict)
	}
	check("RS256 guard/floor", ratio["RS256"][0], 0.85, "x")
	check("RS256 guard/aws-jwt-verify", ratio["RS256"][1], 0.80, "x")
	check("ES256 guard/aws-jwt-verify", ratio["ES256"][1], 1.0, "x")
	check("HS256 verifications per core", rates["HS256"], 250000, "/s")
	return nil
}

func format(v float64, unit string) string {
	if unit == "x" {
		return fmt.Sprintf("%.2fx", v)
	}
	return count(v) + unit
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// count formats a rate with a k or M suffix.
func count(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.2fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func orNone(s string) string {
	if s == "" {
		return "(not run)"
	}
	return s
}

// cpuModel is the CPU's model name on Linux, else GOARCH.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for l := range strings.SplitSeq(string(b), "\n") {
			if name, ok := strings.CutPrefix(l, "model name"); ok {
				return strings.TrimSpace(strings.TrimLeft(name, " \t:"))
			}
		}
	}
	return runtime.GOARCH
}
