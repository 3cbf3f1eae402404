package apigw

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// referenceEvent reads payload the slow, obvious way: a first pass for the
// kind, then a strict decode into aws-lambda-go's full type for that kind,
// copied member by member into an event. It also returns that full value
// encoded again: the payload with only its kind's members, well typed.
func referenceEvent(payload []byte) (event, []byte, error) {
	var head struct {
		Type    string `json:"type"`
		Version string `json:"version"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return event{}, nil, err
	}
	var canonical []byte
	full := func(v any) error {
		dec := json.NewDecoder(bytes.NewReader(payload))
		if err := dec.Decode(v); err != nil {
			return err
		}
		if dec.More() {
			return errors.New("trailing data")
		}
		var err error
		canonical, err = json.Marshal(v)
		return err
	}
	e := event{Type: head.Type, Version: head.Version}
	switch {
	case head.Type == "TOKEN":
		var t events.APIGatewayCustomAuthorizerRequest
		if err := full(&t); err != nil {
			return event{}, nil, err
		}
		e.MethodArn, e.AuthorizationToken = t.MethodArn, t.AuthorizationToken
	case head.Type == "REQUEST" && head.Version != "2.0":
		var r struct {
			events.APIGatewayCustomAuthorizerRequestTypeRequest
			Version            string `json:"version,omitempty"` // HTTP 1.0
			AuthorizationToken string `json:"authorizationToken"`
		}
		if err := full(&r); err != nil {
			return event{}, nil, err
		}
		e.MethodArn, e.AuthorizationToken = r.MethodArn, r.AuthorizationToken
		e.Headers, e.MultiValueHeaders = r.Headers, r.MultiValueHeaders
		e.QueryStringParameters, e.MultiValueQueryStringParameters = r.QueryStringParameters, r.MultiValueQueryStringParameters
		e.PathParameters, e.StageVariables = r.PathParameters, r.StageVariables
		e.HTTPMethod, e.Path, e.Resource = r.HTTPMethod, r.Path, r.Resource
		e.RequestContext.RequestID, e.RequestContext.Path = r.RequestContext.RequestID, r.RequestContext.Path
		e.RequestContext.Identity.SourceIP = r.RequestContext.Identity.SourceIP
		e.RequestContext.Identity.ClientCert = r.RequestContext.Identity.ClientCert
	case head.Type == "REQUEST":
		var r events.APIGatewayV2CustomAuthorizerV2Request
		if err := full(&r); err != nil {
			return event{}, nil, err
		}
		e.RouteArn, e.Headers = r.RouteArn, r.Headers
		e.QueryStringParameters, e.PathParameters, e.StageVariables = r.QueryStringParameters, r.PathParameters, r.StageVariables
		e.RouteKey, e.RawPath, e.RawQueryString = r.RouteKey, r.RawPath, r.RawQueryString
		e.RequestContext.RequestID = r.RequestContext.RequestID
		e.RequestContext.HTTP.Method, e.RequestContext.HTTP.Path = r.RequestContext.HTTP.Method, r.RequestContext.HTTP.Path
		e.RequestContext.HTTP.SourceIP = r.RequestContext.HTTP.SourceIP
		c := r.RequestContext.Authentication.ClientCert
		e.RequestContext.Authentication.ClientCert = clientCert{
			ClientCertPem: c.ClientCertPem, IssuerDN: c.IssuerDN, SerialNumber: c.SerialNumber, SubjectDN: c.SubjectDN,
			Validity: events.APIGatewayCustomAuthorizerRequestTypeRequestIdentityClientCertValidity{
				NotAfter: c.Validity.NotAfter, NotBefore: c.Validity.NotBefore},
		}
	}
	return e, canonical, nil
}

// referenceDecode is Decode over referenceEvent's members, and the
// canonical payload.
func referenceDecode(payload []byte) (Request, []byte, error) {
	e, canonical, err := referenceEvent(payload)
	if err != nil {
		return Request{}, nil, err
	}
	b, err := json.Marshal(e)
	if err != nil {
		return Request{}, nil, err
	}
	r, err := Decode(b)
	return r, canonical, err
}

// sampleEvents are every authorizer sample in events/, with a token in
// place of the template's {{token}}.
func sampleEvents(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, dir := range []string{"token-authorizer", "request-authorizer"} {
		names, err := filepath.Glob(filepath.Join("..", "..", "events", dir, "*.json"))
		if err != nil || len(names) == 0 {
			t.Fatalf("no samples in events/%s: %v", dir, err)
		}
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			out[dir+"/"+filepath.Base(n)] = bytes.ReplaceAll(b, []byte("{{token}}"), []byte("abc.def.ghi"))
		}
	}
	return out
}

// TestDecodeMatchesFullTypes checks Decode against aws-lambda-go's full
// event types on every sample: same kind, ARN, headers, parameters, paths,
// source IP and client certificate.
func TestDecodeMatchesFullTypes(t *testing.T) {
	for name, ev := range sampleEvents(t) {
		t.Run(name, func(t *testing.T) {
			got, err := Decode(ev)
			if err != nil {
				t.Fatal(err)
			}
			want, canonical, err := referenceDecode(ev)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Decode = %+v\nfull types give %+v", got, want)
			}
			if fromFull, err := Decode(canonical); err != nil || !reflect.DeepEqual(fromFull, want) {
				t.Fatalf("Decode(the sample through the full type) = %+v, %v\nwant %+v", fromFull, err, want)
			}
			if got.Kind == 0 || got.ARN == "" {
				t.Fatalf("Decode = %+v: no kind or ARN", got)
			}
		})
	}
}

// TestDecodeRejects lists events Decode must refuse: each is one change away
// from a valid event.
func TestDecodeRejects(t *testing.T) {
	const arn = `"methodArn":"arn:aws:execute-api:us-east-1:123456789012:api/dev/GET/x"`
	cases := map[string]string{
		"empty":                     ``,
		"not JSON":                  `{"type":"TOKEN",` + arn,
		"no type":                   `{` + arn + `}`,
		"request no methodArn":      `{"type":"REQUEST","headers":{}}`,
		"trailing data":             `{"type":"TOKEN",` + arn + `} {}`,
		"trailing garbage":          `{"type":"TOKEN",` + arn + `}x`,
		"array":                     `[{"type":"TOKEN",` + arn + `}]`,
		"no methodArn":              `{"type":"TOKEN","authorizationToken":"Bearer x"}`,
		"no routeArn":               `{"version":"2.0","type":"REQUEST",` + arn + `}`,
		"unknown type":              `{"type":"COGNITO_USER_POOLS",` + arn + `}`,
		"unknown version":           `{"version":"3.0","type":"REQUEST",` + arn + `}`,
		"token version":             `{"version":"2.0","type":"TOKEN",` + arn + `}`,
		"lower-case type":           `{"type":"token",` + arn + `}`,
		"methodArn number":          `{"type":"TOKEN","methodArn":5}`,
		"token not a string":        `{"type":"TOKEN",` + arn + `,"authorizationToken":["Bearer x"]}`,
		"headers not an object":     `{"type":"REQUEST",` + arn + `,"headers":"Authorization: Bearer x"}`,
		"header value not a string": `{"type":"REQUEST",` + arn + `,"headers":{"Authorization":["Bearer x"]}}`,
		"multi value not a list":    `{"type":"REQUEST",` + arn + `,"multiValueHeaders":{"Authorization":"Bearer x"}}`,
		"sourceIp not a string":     `{"type":"REQUEST",` + arn + `,"requestContext":{"identity":{"sourceIp":1}}}`,
		"v2 sourceIp not a string":  `{"version":"2.0","type":"REQUEST","routeArn":"a","requestContext":{"http":{"sourceIp":[]}}}`,
		"v2 cert not an object":     `{"version":"2.0","type":"REQUEST","routeArn":"a","requestContext":{"authentication":{"clientCert":"pem"}}}`,
		"too large":                 `{"type":"TOKEN",` + arn + `,"x":"` + string(bytes.Repeat([]byte("a"), MaxEventSize)) + `"}`,
	}
	for name, ev := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := Decode([]byte(ev))
			if !errors.Is(err, ErrMalformedEvent) {
				t.Fatalf("Decode = %+v, %v; want ErrMalformedEvent", r, err)
			}
		})
	}
}

// FuzzDecodeMatchesFullTypes: every event that aws-lambda-go's full type
// for its kind accepts, encoded again from that type (so with only the
// kind's members), Decode accepts and reads the same way; and wherever
// Decode accepts the input itself, it reads the same too.
func FuzzDecodeMatchesFullTypes(f *testing.F) {
	for _, ev := range sampleEvents(f) {
		f.Add(ev)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, canonical, err := referenceDecode(b)
		if err != nil {
			return // the full types refused it
		}
		fromFull, err := Decode(canonical)
		if err != nil || !reflect.DeepEqual(fromFull, want) {
			t.Fatalf("Decode(%q) = %+v, %v\nthe full types read %+v", canonical, fromFull, err, want)
		}
		if got, err := Decode(b); err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("Decode(%q) = %+v\nthe full types read %+v", b, got, want)
		}
	})
}

// TestDecodeHeaderSpellings: a header under two spellings with one value is
// that header; with different values it is left out of Headers (named in
// AmbiguousHeaders), so no credential is taken from it, and it is not
// filled in from multiValueHeaders; multi-valued spellings merge in the
// names' sorted order.
func TestDecodeHeaderSpellings(t *testing.T) {
	const arn = `"methodArn":"arn:aws:execute-api:us-east-1:123456789012:api/dev/GET/x"`
	same := `{"type":"REQUEST",` + arn + `,"headers":{"Authorization":"Bearer a","authorization":"Bearer a"},
		"multiValueHeaders":{"x-b":["3"],"X-B":["1","2"]}}`
	for range 20 { // map order differs between runs
		r, err := Decode([]byte(same))
		if err != nil {
			t.Fatal(err)
		}
		if r.Authorization != "Bearer a" || r.Headers["x-b"] != "1" || !reflect.DeepEqual(r.MultiHeaders["x-b"], []string{"1", "2", "3"}) || r.AmbiguousHeaders != nil {
			t.Fatalf("Decode = Authorization %q, x-b %q, multi x-b %v, ambiguous %v; want Bearer a, 1, [1 2 3], none",
				r.Authorization, r.Headers["x-b"], r.MultiHeaders["x-b"], r.AmbiguousHeaders)
		}
	}
	for name, ev := range map[string]string{
		"REST": `{"type":"REQUEST",` + arn + `,"headers":{"Authorization":"Bearer a","authorization":"Bearer b","X-Foo":"1","x-foo":"2","Host":"h"},
			"multiValueHeaders":{"Authorization":["Bearer a"],"authorization":["Bearer b"],"X-Foo":["1"],"x-foo":["2"]}}`,
		"HTTP 2.0": `{"version":"2.0","type":"REQUEST","routeArn":"a","headers":{"authorization":"Bearer a","AUTHORIZATION":"Bearer b","x-foo":"1","X-FOO":"2","host":"h"}}`,
	} {
		for range 20 {
			r, err := Decode([]byte(ev))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			_, hasAuth := r.Headers["authorization"]
			_, hasFoo := r.Headers["x-foo"]
			if r.Authorization != "" || hasAuth || hasFoo || r.Headers["host"] != "h" || !reflect.DeepEqual(r.AmbiguousHeaders, []string{"authorization", "x-foo"}) {
				t.Fatalf("%s: Authorization %q, headers %v, ambiguous %v; want no authorization or x-foo, host kept, both named",
					name, r.Authorization, r.Headers, r.AmbiguousHeaders)
			}
		}
	}
}
