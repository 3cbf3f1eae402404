package main

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A run of 40 s: rotations at 10 s and 20 s (each taking 200 ms), a
// revocation at 30 s, cool-down grace 3 s.
var testTimeline = timeline{
	rotations:    []window{{10_000, 10_200}, {20_000, 20_200}},
	revokeAt:     30_000,
	grace:        3_000,
	revokeWithin: 5_000,
}

func TestJudge(t *testing.T) {
	tl := testTimeline
	for _, tc := range []struct {
		name   string
		class  string
		at     int64 // bucket start, ms
		status int
		want   verdict
	}{
		{"valid allowed", classValid, 5_000, 200, right},
		{"valid refused outside a rotation", classValid, 5_000, 401, wrong},
		{"valid refused just after a rotation", classValid, 12_000, 401, graceRefusal},
		{"valid refused after the grace", classValid, 13_300, 401, wrong},
		{"valid 403 is never right", classValid, 12_000, 403, wrong},
		{"valid 500", classValid, 5_000, 500, wrong},
		{"unentitled 403", classUnentitled, 5_000, 403, right},
		{"unentitled allowed", classUnentitled, 5_000, 200, wrong},
		{"unentitled 401 just after a rotation", classUnentitled, 20_500, 401, graceRefusal},
		{"invalid 401", classInvalid, 25_000, 401, right},
		{"invalid allowed", classInvalid, 25_000, 200, wrong},
		{"invalid 403", classInvalid, 25_000, 403, wrong},
		{"old key before the first rotation", classOld, 9_800, 200, right},
		{"old key refused before the first rotation", classOld, 9_800, 401, wrong},
		{"old key inside the first rotation window", classOld, 11_000, 200, transition},
		{"old key allowed after the window", classOld, 13_200, 200, wrong},
		{"old key refused after the window", classOld, 13_200, 401, right},
		{"retiring key between the rotations", classRetiring, 15_000, 200, right},
		{"retiring key refused between the rotations", classRetiring, 15_000, 401, wrong},
		{"retiring key after the second window", classRetiring, 23_300, 401, right},
		{"revoked before the revocation", classRevoked, 29_900, 200, right},
		{"revoked refused in a rotation window", classRevoked, 10_100, 401, graceRefusal},
		{"revoked allowed 4.9 s after", classRevoked, 34_800, 200, transition},
		{"revoked allowed 5 s after", classRevoked, 35_000, 200, wrong},
		{"revoked refused 5 s after", classRevoked, 35_000, 401, right},
		{"unknown class", "other", 1_000, 200, wrong},
		{"status 429", classValid, 1_000, 429, wrong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tl.judge(tc.class, tc.at, tc.at+bucketMS, tc.status); got != tc.want {
				t.Errorf("judge(%s, %d ms, %d) = %d, want %d", tc.class, tc.at, tc.status, got, tc.want)
			}
		})
	}
}

func TestJudgeAll(t *testing.T) {
	cells := []cell{
		{50, classValid, 200, 30},
		{102, classValid, 401, 2},   // 10.2-10.3 s: inside rotation 1
		{110, classValid, 401, 1},   // 11.0 s: refused until 0.9 s after
		{101, classOld, 200, 5},     // transition
		{140, classOld, 200, 1},     // false allow of a retired key
		{250, classInvalid, 200, 1}, // false allow
		{320, classRevoked, 200, 4}, // 2.1 s after the revocation
		{350, classRevoked, 401, 3},
		{60, classValid, 502, 2},
		{60, classUnentitled, 401, 1}, // wrong status, a deny all the same
		{211, classValid, 401, 1},     // 21.1 s: inside both windows, counted for rotation 2
	}
	got := testTimeline.judgeAll(cells)
	got.Samples = nil
	want := tally{
		Requests: 51,
		ByClass: map[string]map[int]int{
			classValid: {200: 30, 401: 4, 502: 2}, classOld: {200: 6}, classInvalid: {200: 1},
			classRevoked: {200: 4, 401: 3}, classUnentitled: {401: 1},
		},
		Wrong: 5, FalseAllows: 2, FalseDenies: 0, ServerErrs: 2, Transitions: 9, GraceRefusals: 4,
		NewKeyAcceptedMS: []int64{900, 1_000}, RetiredKeyLastOKMS: []int64{3_900, -1}, RevokedLastOKMS: 2_100,
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("judgeAll =\n%s\nwant\n%s", g, w)
	}
}

func TestCells(t *testing.T) {
	var r wrkResult
	if err := json.Unmarshal([]byte(`{"requests":3,"counts":{"17000000001|valid|200":2,"17000000001|invalid|401":1}}`), &r); err != nil {
		t.Fatal(err)
	}
	cells, err := r.cells()
	if err != nil || len(cells) != 2 {
		t.Fatalf("cells = %v, %v", cells, err)
	}
	if _, err := (wrkResult{Counts: map[string]int{"x|valid": 1}}).cells(); err == nil {
		t.Error("a key without a status parsed")
	}
}

func TestReadDecisions(t *testing.T) {
	ms := func(at int64) string { return time.UnixMilli(at).UTC().Format(time.RFC3339Nano) }
	rec := func(at int64, decision, reason, kid, sub string) string {
		return `[TokenAuthorizerFunction] {"timestamp":"` + ms(at) + `","level":"INFO","message":"authorizer decision","decision":"` +
			decision + `","reason":"` + reason + `","kid":"` + kid + `","sub":"` + sub + `","latencyMs":` + strconv.Itoa(int(at/10_000)) + `}`
	}
	log := strings.Join([]string{
		"[TokenAuthorizerFunction] 04 Dec 2026 04:40:56,768 [INFO] (rapid) exec",
		rec(9_000, "allow", "ok", "k0", "olga"),
		rec(11_000, "allow", "ok", "k0", "olga"), // retired key, 0.8 s after rotation 1
		rec(12_500, "allow", "ok", "k2", "alice"),
		rec(12_000, "unauthorized", "unknown_key", "", ""),
		rec(22_000, "allow", "ok", "k3", "alice"),
		rec(31_000, "allow", "ok", "k3", "mallory"),
		rec(32_500, "unauthorized", "revoked", "k3", "mallory"),
		rec(33_000, "unauthorized", "revoked", "k3", "mallory"),
		`[EchoBackendFunction] {"message":"authorizer decision","decision":"allow"}`,
	}, "\n")
	got, err := readDecisions(strings.NewReader(log), testTimeline,
		[]rotationKeys{{New: "k2", Retired: "k0"}, {New: "k3", Retired: "k1"}}, "mallory")
	if err != nil {
		t.Fatal(err)
	}
	want := decisionStats{
		ByDecision:         map[string]int{"allow/ok": 5, "unauthorized/unknown_key": 1, "unauthorized/revoked": 2},
		NewKeyFirstAllowMS: []int64{2_300, 1_800}, RetiredKeyLastAllowMS: []int64{800, -1},
		RevokedFirstDenyMS: 2_500, RevokedLastAllowMS: 1_000,
	}
	want.LatencyMS.P50, want.LatencyMS.P99, want.LatencyMS.Max = 1, 3, 3 // of 0 1 1 1 2 3 3 3
	if !reflect.DeepEqual(got, want) {
		t.Errorf("readDecisions = %+v, want %+v", got, want)
	}
}
