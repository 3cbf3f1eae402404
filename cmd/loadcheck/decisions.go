package main

import (
	"bufio"
	"encoding/json"
	"io"
	"sort"
	"strings"
	"time"
)

// rotationKeys names the keys one rotation changed.
type rotationKeys struct {
	New     string `json:"newKid"`     // AWSCURRENT after it
	Retired string `json:"retiredKid"` // AWSPREVIOUS before it: now two rotations old
}

// decisionStats is what the token authorizer's own decision log says about
// the run; it complements the client's view with exact times.
type decisionStats struct {
	// ByDecision counts decisions as "decision/reason".
	ByDecision map[string]int `json:"byDecision"`
	// NewKeyFirstAllowMS is, per rotation, how long after it ended the
	// first token of the new key was allowed (-1: never).
	NewKeyFirstAllowMS []int64 `json:"newKeyFirstAllowMs"`
	// RetiredKeyLastAllowMS is, per rotation, how long after it ended a
	// token of the key it retired was last allowed (-1: not after it).
	RetiredKeyLastAllowMS []int64 `json:"retiredKeyLastAllowMs"`
	// RevokedFirstDenyMS and RevokedLastAllowMS: how long after the
	// revocation was sent the subject was first refused as revoked, and
	// last allowed (-1: never).
	RevokedFirstDenyMS int64 `json:"revokedFirstDenyMs"`
	RevokedLastAllowMS int64 `json:"revokedLastAllowMs"`
	// LatencyMS are percentiles of the handler's own latency (its
	// latencyMs field): the time inside the function, without the
	// emulator, the queue for it and the gateway.
	LatencyMS struct {
		P50, P99, Max float64
	} `json:"handlerLatencyMs"`
}

// readDecisions reads the authorizer's decision records from the stack log
// (lines "[TokenAuthorizerFunction] {json}").
func readDecisions(r io.Reader, tl timeline, keys []rotationKeys, revokedSub string) (decisionStats, error) {
	d := decisionStats{ByDecision: map[string]int{}, RevokedFirstDenyMS: -1, RevokedLastAllowMS: -1,
		NewKeyFirstAllowMS: make([]int64, len(keys)), RetiredKeyLastAllowMS: make([]int64, len(keys))}
	for i := range keys {
		d.NewKeyFirstAllowMS[i], d.RetiredKeyLastAllowMS[i] = -1, -1
	}
	var latencies []float64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		_, rest, ok := strings.Cut(sc.Text(), "[TokenAuthorizerFunction] {")
		if !ok || !strings.Contains(rest, `"authorizer decision"`) {
			continue
		}
		var rec struct {
			Time     time.Time `json:"timestamp"`
			Decision string    `json:"decision"`
			Reason   string    `json:"reason"`
			Kid      string    `json:"kid"`
			Sub      string    `json:"sub"`
			Latency  float64   `json:"latencyMs"`
		}
		if json.Unmarshal([]byte("{"+rest), &rec) != nil {
			continue
		}
		d.ByDecision[rec.Decision+"/"+rec.Reason]++
		latencies = append(latencies, rec.Latency)
		at := rec.Time.UnixMilli()
		for i, k := range keys {
			if i >= len(tl.rotations) || rec.Decision != "allow" {
				continue
			}
			after := at - tl.rotations[i].end
			if rec.Kid == k.New && (d.NewKeyFirstAllowMS[i] < 0 || after < d.NewKeyFirstAllowMS[i]) {
				d.NewKeyFirstAllowMS[i] = max(after, 0)
			}
			if rec.Kid == k.Retired && after >= 0 && after > d.RetiredKeyLastAllowMS[i] {
				d.RetiredKeyLastAllowMS[i] = after
			}
		}
		if rec.Sub == revokedSub && tl.revokeAt != 0 && at >= tl.revokeAt {
			after := at - tl.revokeAt
			switch {
			case rec.Reason == "revoked" && d.RevokedFirstDenyMS < 0:
				d.RevokedFirstDenyMS = after
			case rec.Decision == "allow":
				d.RevokedLastAllowMS = after
			}
		}
	}
	if n := len(latencies); n > 0 {
		sort.Float64s(latencies)
		d.LatencyMS.P50, d.LatencyMS.P99, d.LatencyMS.Max = latencies[(n-1)/2], latencies[(n-1)*99/100], latencies[n-1]
	}
	return d, sc.Err()
}
