package main

import (
	"fmt"
	"sort"
	"strings"
)

// The token classes of the mix. Each has one right answer at any moment of
// the run, given the run's timeline.
const (
	classValid      = "valid"      // signed with the key AWSCURRENT at the time: 200
	classOld        = "old"        // the key AWSPREVIOUS at the start: 200, then 401 once two rotations old (first rotation)
	classRetiring   = "retiring"   // the key AWSCURRENT at the start: 200, then 401 once two rotations old (second rotation)
	classInvalid    = "invalid"    // forged, expired, unknown key, malformed...: 401
	classRevoked    = "revoked"    // a subject revoked during the run: 200, then 401 within revokeWithin
	classUnentitled = "unentitled" // valid, but without the route's scope: 403
)

var classes = []string{classValid, classOld, classRetiring, classInvalid, classRevoked, classUnentitled}

// cell is what the wrk script counted: n answers with status for class in
// the 100 ms bucket starting at bucket*100 ms (unix time).
type cell struct {
	bucket int64
	class  string
	status int
	n      int
}

const bucketMS = 100

// window is one rotation, in unix ms: from the call of the first step to
// the return of the last.
type window struct{ start, end int64 }

// timeline is what happened during the run, in unix ms.
type timeline struct {
	rotations []window
	revokeAt  int64 // when the revocation was sent; 0 if none
	// grace is how long after a rotation the authorizer may still hold the
	// versions from before it: the refresh cool-down plus a second.
	grace int64
	// revokeWithin is how soon a revocation must be in force.
	revokeWithin int64
}

// verdict is how one answer compares with the right one.
type verdict int

const (
	right verdict = iota
	// transition: a key or subject whose right answer changes at an event,
	// answered inside the event's window (either answer is right).
	transition
	// graceRefusal: a token of a key minted right after a rotation, refused
	// while the authorizer may not have re-read the secret yet (within the
	// cool-down): a refusal, never an allow.
	graceRefusal
	wrong
)

// judge returns the verdict on one answer in the bucket [from, to).
func (tl timeline) judge(class string, from, to int64, status int) verdict {
	if status >= 500 || (status != 200 && status != 401 && status != 403) {
		return wrong
	}
	inRotation := false
	for _, w := range tl.rotations {
		if from < w.end+tl.grace && to > w.start {
			inRotation = true
		}
	}
	// fresh judges a token re-signed with each new key: want, or a
	// refusal inside a rotation window.
	fresh := func(want int) verdict {
		switch {
		case status == want:
			return right
		case inRotation && status == 401:
			return graceRefusal
		}
		return wrong
	}
	// retires judges a fixed token whose key stops verifying at w.
	retires := func(w window) verdict {
		switch {
		case to <= w.start:
			return pick(status == 200)
		case from >= w.end+tl.grace:
			return pick(status == 401)
		}
		return transition
	}
	switch class {
	case classValid:
		return fresh(200)
	case classUnentitled:
		return fresh(403)
	case classInvalid:
		return pick(status == 401)
	case classOld, classRetiring:
		i := 0
		if class == classRetiring {
			i = 1
		}
		if i >= len(tl.rotations) {
			return pick(status == 200) // no such rotation in this run
		}
		return retires(tl.rotations[i])
	case classRevoked:
		switch {
		case tl.revokeAt == 0 || to <= tl.revokeAt:
			return fresh(200)
		case from >= tl.revokeAt+tl.revokeWithin:
			return pick(status == 401)
		}
		return transition
	}
	return wrong
}

func pick(ok bool) verdict {
	if ok {
		return right
	}
	return wrong
}

// tally is the judged run.
type tally struct {
	Requests    int                    `json:"requests"`
	ByClass     map[string]map[int]int `json:"byClass"` // class -> status -> answers
	Wrong       int                    `json:"wrongDecisions"`
	FalseAllows int                    `json:"falseAllows"` // 200 where a refusal was right
	FalseDenies int                    `json:"falseDenies"` // 401/403 where 200 was right
	ServerErrs  int                    `json:"serverErrors"`
	Transitions int                    `json:"transitionAnswers"`
	// GraceRefusals counts new-key tokens refused inside the cool-down
	// after a rotation.
	GraceRefusals int `json:"graceRefusals"`
	// NewKeyAcceptedMS is, per rotation, how long after it ended tokens of
	// the new key were last refused (0: never refused).
	NewKeyAcceptedMS []int64 `json:"newKeyRefusedUntilMs"`
	// RetiredKeyLastOKMS is, per rotation, how long after it ended a token
	// of the key it made two rotations old was last allowed (negative: not
	// after the rotation ended).
	RetiredKeyLastOKMS []int64 `json:"retiredKeyLastAllowedMs"`
	// RevokedLastOKMS is how long after the revocation was sent the revoked
	// subject was last allowed (bucket end; negative: never after).
	RevokedLastOKMS int64    `json:"revokedLastAllowedMs"`
	Samples         []string `json:"wrongSamples,omitempty"`
}

// judgeAll judges every cell.
func (tl timeline) judgeAll(cells []cell) tally {
	t := tally{ByClass: map[string]map[int]int{}, RevokedLastOKMS: -1,
		NewKeyAcceptedMS: make([]int64, len(tl.rotations)), RetiredKeyLastOKMS: make([]int64, len(tl.rotations))}
	for i := range t.RetiredKeyLastOKMS {
		t.RetiredKeyLastOKMS[i] = -1
	}
	sort.Slice(cells, func(i, j int) bool { return cells[i].bucket < cells[j].bucket })
	for _, c := range cells {
		from, to := c.bucket*bucketMS, (c.bucket+1)*bucketMS
		t.Requests += c.n
		if t.ByClass[c.class] == nil {
			t.ByClass[c.class] = map[int]int{}
		}
		t.ByClass[c.class][c.status] += c.n
		switch tl.judge(c.class, from, to, c.status) {
		case transition:
			t.Transitions += c.n
		case graceRefusal:
			t.GraceRefusals += c.n
		case wrong:
			t.Wrong += c.n
			switch {
			case c.status >= 500:
				t.ServerErrs += c.n
			case c.status == 200:
				t.FalseAllows += c.n
			default:
				if c.class == classValid || c.class == classRevoked || c.class == classOld || c.class == classRetiring {
					t.FalseDenies += c.n
				}
			}
			if len(t.Samples) < 20 {
				t.Samples = append(t.Samples, fmt.Sprintf("%s answered %d x%d at %s", c.class, c.status, c.n, tl.at(from)))
			}
		}
		if i := tl.latestRotation(to); i >= 0 && c.class == classValid && c.status == 401 {
			if w := tl.rotations[i]; from < w.end+tl.grace {
				t.NewKeyAcceptedMS[i] = max(t.NewKeyAcceptedMS[i], to-w.end)
			}
		}
		for i, w := range tl.rotations {
			retiring := (i == 0 && c.class == classOld) || (i == 1 && c.class == classRetiring)
			if retiring && c.status == 200 && to > w.end {
				t.RetiredKeyLastOKMS[i] = max(t.RetiredKeyLastOKMS[i], to-w.end)
			}
		}
		if c.class == classRevoked && c.status == 200 && tl.revokeAt != 0 && to > tl.revokeAt {
			t.RevokedLastOKMS = max(t.RevokedLastOKMS, to-tl.revokeAt)
		}
	}
	return t
}

// latestRotation returns the index of the last rotation that started
// before ms, or -1.
func (tl timeline) latestRotation(ms int64) int {
	last := -1
	for i, w := range tl.rotations {
		if w.start < ms {
			last = i
		}
	}
	return last
}

// at names a moment relative to the events.
func (tl timeline) at(ms int64) string {
	var parts []string
	for i, w := range tl.rotations {
		parts = append(parts, fmt.Sprintf("rotation %d %+dms", i+1, ms-w.end))
	}
	if tl.revokeAt != 0 {
		parts = append(parts, fmt.Sprintf("revocation %+dms", ms-tl.revokeAt))
	}
	return strings.Join(parts, ", ")
}
