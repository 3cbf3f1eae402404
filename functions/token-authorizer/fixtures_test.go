package main

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestFixturesRoundTrip proves the samples lose nothing in the
// aws-lambda-go types: each decodes strictly, re-encodes, and every member
// of the sample comes back with the same value.
func TestFixturesRoundTrip(t *testing.T) {
	cases := []struct {
		file   string
		decode func(t *testing.T, name string) any
	}{
		{"rest-token.json", func(t *testing.T, n string) any { return readEvent[events.APIGatewayCustomAuthorizerRequest](t, n) }},
		{"rest-request.json", func(t *testing.T, n string) any {
			return readEvent[events.APIGatewayCustomAuthorizerRequestTypeRequest](t, n)
		}},
		{"http-v2.json", func(t *testing.T, n string) any { return readEvent[events.APIGatewayV2CustomAuthorizerV2Request](t, n) }},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			var orig map[string]any
			if err := json.Unmarshal(event(t, tc.file, "x"), &orig); err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(tc.decode(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var back map[string]any
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if n := lost(t, "", orig, back); n == 0 && len(orig) == 0 {
				t.Fatalf("%s is empty", tc.file)
			}
		})
	}
}

// lost reports every member of want missing from or different in got, and
// returns how many members it compared.
func lost(t *testing.T, path string, want, got map[string]any) int {
	t.Helper()
	n := 0
	for k, w := range want {
		n++
		g, ok := got[k]
		if !ok {
			t.Errorf("%s/%s: lost in the round trip", path, k)
			continue
		}
		wm, wok := w.(map[string]any)
		gm, gok := g.(map[string]any)
		if wok && gok {
			n += lost(t, path+"/"+k, wm, gm)
			continue
		}
		if !reflect.DeepEqual(w, g) {
			t.Errorf("%s/%s = %v after the round trip, want %v", path, k, g, w)
		}
	}
	return n
}
