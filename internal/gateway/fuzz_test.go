package gateway

import (
	"encoding/json"
	"testing"
)

// Authorizer answers and function responses are untrusted input.

func FuzzAuthorizerAnswer(f *testing.F) {
	f.Add([]byte(`{"principalId":"a","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]},"context":{"a":1,"b":true,"c":"x"}}`))
	f.Add([]byte(`{"isAuthorized":true,"context":{"k":[1,{"x":null}]}}`))
	f.Add([]byte(`{"principalId":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, rest := range []bool{true, false} {
			res, err := parseIAMResponse(data, rest)
			if err != nil {
				continue
			}
			if res.doc == nil || res.simple {
				t.Fatalf("IAM answer parsed without a policy: %+v", res)
			}
			if rest {
				for k, v := range res.context {
					switch v.(type) {
					case string, json.Number, bool, nil:
					default:
						t.Fatalf("REST context %q kept a %T", k, v)
					}
				}
			}
		}
		if res, err := parseSimpleResponse(data); err == nil && !res.simple {
			t.Fatal("simple answer not marked simple")
		}
	})
}

func FuzzProxyResponse(f *testing.F) {
	f.Add([]byte(`{"statusCode":200,"headers":{"a":"b"},"multiValueHeaders":{"c":["d"]},"body":"x","isBase64Encoded":false}`))
	f.Add([]byte(`{"statusCode":200,"cookies":["a=b"],"body":"eA==","isBase64Encoded":true}`))
	f.Add([]byte(`"hello"`))
	f.Add([]byte(`{"statusCode":1e3}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func([]byte) (*proxyResponse, error){parseRESTResponse, parseHTTPResponse} {
			r, err := parse(data)
			if err != nil {
				continue
			}
			if r.status < 100 || r.status > 599 {
				t.Fatalf("status %d accepted", r.status)
			}
		}
	})
}
