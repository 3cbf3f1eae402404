package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestParseARN(t *testing.T) {
	cases := []struct {
		name, in string
		want     ARN
	}{
		// The methodArn and routeArn examples of the API Gateway developer guide.
		{"rest token example", "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request",
			ARN{"aws", "us-east-1", "123456789012", "abcdef123", "test", "GET", "request"}},
		{"http 2.0 example", "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request",
			ARN{"aws", "us-east-1", "123456789012", "abcdef123", "test", "GET", "request"}},
		{"$default stage", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/$default/GET/orders/42",
			ARN{"aws", "us-east-1", "123456789012", "a1b2c3d4e5", "$default", "GET", "orders/42"}},
		{"$default route", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/$default/$default",
			ARN{"aws", "us-east-1", "123456789012", "a1b2c3d4e5", "$default", "$default", ""}},
		{"$default route named stage", "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/$default",
			ARN{"aws", "eu-west-1", "123456789012", "a1b2c3d4e5", "prod", "$default", ""}},
		{"many segments", "arn:aws:execute-api:us-west-2:123456789012:xyz987/prod/DELETE/a/b/c/d/e/f/g/h",
			ARN{"aws", "us-west-2", "123456789012", "xyz987", "prod", "DELETE", "a/b/c/d/e/f/g/h"}},
		{"root", "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/OPTIONS/",
			ARN{"aws", "us-east-1", "123456789012", "abcdef123", "test", "OPTIONS", ""}},
		{"china partition", "arn:aws-cn:execute-api:cn-north-1:123456789012:abc/v1_beta-2/PATCH/x",
			ARN{"aws-cn", "cn-north-1", "123456789012", "abc", "v1_beta-2", "PATCH", "x"}},
		{"govcloud", "arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:abc/dev/HEAD/x",
			ARN{"aws-us-gov", "us-gov-west-1", "123456789012", "abc", "dev", "HEAD", "x"}},
		{"odd path characters", "arn:aws:execute-api:us-east-1:123456789012:abc/dev/PUT/a:b/*/ü/%2F/",
			ARN{"aws", "us-east-1", "123456789012", "abc", "dev", "PUT", "a:b/*/ü/%2F/"}},
		{"empty segments kept", "arn:aws:execute-api:us-east-1:123456789012:abc/dev/POST//x",
			ARN{"aws", "us-east-1", "123456789012", "abc", "dev", "POST", "/x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseARN(tc.in)
			if err != nil {
				t.Fatalf("ParseARN(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("ParseARN(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
			if s := got.String(); s != tc.in {
				t.Errorf("String() = %q, want %q", s, tc.in)
			}
		})
	}
}

func TestParseARNErrors(t *testing.T) {
	ok := "arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/x"
	cases := []struct{ name, in string }{
		{"empty", ""},
		{"no prefix", strings.TrimPrefix(ok, "arn:")},
		{"other service", strings.Replace(ok, "execute-api", "lambda", 1)},
		{"service case", strings.Replace(ok, "execute-api", "Execute-API", 1)},
		{"no partition", strings.Replace(ok, "arn:aws:", "arn::", 1)},
		{"wild partition", strings.Replace(ok, "arn:aws:", "arn:*:", 1)},
		{"no region", strings.Replace(ok, "us-east-1", "", 1)},
		{"wild region", strings.Replace(ok, "us-east-1", "*", 1)},
		{"short account", strings.Replace(ok, "123456789012", "12345", 1)},
		{"wild account", strings.Replace(ok, "123456789012", "*", 1)},
		{"letters in account", strings.Replace(ok, "123456789012", "12345678901a", 1)},
		{"few fields", "arn:aws:execute-api:us-east-1:abc/dev/GET/x"},
		{"no stage", "arn:aws:execute-api:us-east-1:123456789012:abc"},
		{"no method", "arn:aws:execute-api:us-east-1:123456789012:abc/dev"},
		{"wild api", strings.Replace(ok, "abc/", "*/", 1)},
		{"empty api", strings.Replace(ok, "abc/", "/", 1)},
		{"wild stage", strings.Replace(ok, "/dev/", "/*/", 1)},
		{"dollar stage", strings.Replace(ok, "/dev/", "/$prod/", 1)},
		{"empty stage", strings.Replace(ok, "/dev/", "//", 1)},
		{"wild method", strings.Replace(ok, "/GET/", "/*/", 1)},
		{"ANY method", strings.Replace(ok, "/GET/", "/ANY/", 1)},
		{"lower method", strings.Replace(ok, "/GET/", "/get/", 1)},
		{"no slash after method", "arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET"},
		{"path after $default route", "arn:aws:execute-api:us-east-1:123456789012:abc/dev/$default/x"},
		{"space in path", ok + " y"},
		{"tab in path", ok + "\ty"},
		{"newline in path", ok + "\n"},
		{"invalid utf-8", ok + "\xff"},
		{"too long", ok + "/" + strings.Repeat("a", MaxARNLength)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseARN(tc.in)
			if err == nil {
				t.Fatalf("ParseARN(%q) = %+v, nil error; want an error", tc.in, a)
			}
			if !errors.Is(err, ErrInvalidARN) {
				t.Errorf("error %v does not wrap ErrInvalidARN", err)
			}
		})
	}
	exact := "arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/"
	exact += strings.Repeat("a", MaxARNLength-len(exact))
	if _, err := ParseARN(exact); err != nil {
		t.Errorf("ParseARN of exactly %d bytes: %v, want success", MaxARNLength, err)
	}
}
