package main

import (
	"fmt"
	"io"
	"time"
)

// nearZero is the target for the measured phase: at most one new
// connection per 100 warm invocations of a function, over all its
// endpoints.
const nearZero = 0.01

// report prints one row per function and endpoint, then the verdicts.
func report(w io.Writer, o options, subjects []*subject, results [][2]phase, jwksFetches int64) {
	fmt.Fprintf(w, "\nNew TCP connections to the local endpoints (%d warm invocations per function after %d warm-up invocation(s) per execution environment)\n\n", o.n, o.warmup)
	fmt.Fprintln(w, "| function | environments | endpoint | warm-up: connections / requests | warm: invocations | warm: requests | warm: new connections | requests per connection | warm: requests given up (timeouts) | slowest answer (whole run) |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
	type verdict struct {
		name                   string
		conns, aborted, invoks int64
	}
	var verdicts []verdict
	for i, sub := range subjects {
		warm, measured := results[i][0], results[i][1]
		v := verdict{name: sub.name, invoks: int64(measured.invocations)}
		for j, p := range sub.proxies {
			wc, mc := warm.counts[j], measured.counts[j]
			v.conns += mc.conns
			v.aborted += mc.aborted
			gaveUp, slowest := "–", "–"
			if p.srv != nil { // a front: it sees each answer
				gaveUp = fmt.Sprint(mc.aborted)
				slowest = time.Duration(p.slowest.Load()).Round(time.Millisecond).String()
			}
			fmt.Fprintf(w, "| %s | %d | %s | %d / %d | %d | %d | **%d** | %s | %s | %s |\n",
				sub.name, sub.instances, p.name, wc.conns, wc.requests, measured.invocations, mc.requests, mc.conns, perConn(mc), gaveUp, slowest)
		}
		verdicts = append(verdicts, v)
	}
	if jwksFetches > 0 {
		fmt.Fprintf(w, "\nThe issuer served its JWK Set %d times in all (warm-up included).\n", jwksFetches)
	}
	fmt.Fprintln(w)
	for _, v := range verdicts {
		limit := nearZero * float64(v.invoks)
		status := "met"
		switch {
		case float64(v.conns) <= limit:
		case float64(v.conns-v.aborted) <= limit:
			// A request given up on leaves its connection unusable (the
			// answer may still come), so the client must open another:
			// that is the endpoint's slowness, not a connection dropped.
			status = fmt.Sprintf("NOT MET, but %d of them replace connections whose request timed out at the endpoint", min(v.aborted, v.conns))
		default:
			status = "NOT MET"
		}
		fmt.Fprintf(w, "%s: %d new connection(s) over %d warm invocations (target: near zero, at most %.0f): %s\n",
			v.name, v.conns, v.invoks, limit, status)
	}
}

// perConn is requests per new connection during a phase, "all on
// connections opened before" when none was opened.
func perConn(c counts) string {
	if c.conns == 0 {
		if c.requests == 0 {
			return "–"
		}
		return "∞ (no new connection)"
	}
	return fmt.Sprintf("%.1f", float64(c.requests)/float64(c.conns))
}
