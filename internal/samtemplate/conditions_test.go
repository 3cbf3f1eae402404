package samtemplate

import (
	"errors"
	"strings"
	"testing"
)

// condHead declares parameters and conditions for the tests below.
const condHead = `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Mode: {Type: String, Default: public, AllowedValues: [public, private]}
  Cidrs: {Type: String, Default: ""}
  Count: {Type: Number, Default: 0}
Conditions:
  IsPrivate: !Equals [!Ref Mode, private]
  HasCidrs: !Not [!Equals [!Ref Cidrs, ""]]
  NoCount: !Equals [!Ref Count, 0]
  Both: !And [!Condition IsPrivate, !Condition HasCidrs]
  Either: !Or [!Condition IsPrivate, {Condition: HasCidrs}]
  Loop1: !Not [!Condition Loop2]
  Loop2: !Not [!Condition Loop1]
Globals:
  Function: {Runtime: provided.al2023, Handler: bootstrap}
Resources:
  Auth:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ., AutoPublishAlias: live}
`

func TestConditions(t *testing.T) {
	tmpl := condHead + `
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Environment:
        Variables:
          MODE: !If [IsPrivate, in-vpc, on-internet]
          CIDRS: !If [HasCidrs, !Ref Cidrs, none]
          COUNT: !If [NoCount, zero, some]
          BOTH: !If [Both, "yes", "no"]
          EITHER: !If [Either, "yes", "no"]
          DROPPED: !If [IsPrivate, kept, !Ref AWS::NoValue]
`
	tests := []struct {
		name   string
		params map[string]string
		want   map[string]string
	}{
		{"defaults", nil, map[string]string{"MODE": "on-internet", "CIDRS": "none", "COUNT": "zero", "BOTH": "no", "EITHER": "no"}},
		{"private with cidrs", map[string]string{"Mode": "private", "Cidrs": "10.0.0.0/8", "Count": "3"},
			map[string]string{"MODE": "in-vpc", "CIDRS": "10.0.0.0/8", "COUNT": "some", "BOTH": "yes", "EITHER": "yes", "DROPPED": "kept"}},
		{"cidrs only", map[string]string{"Cidrs": "10.0.0.0/8"},
			map[string]string{"MODE": "on-internet", "CIDRS": "10.0.0.0/8", "COUNT": "zero", "BOTH": "no", "EITHER": "yes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, err := Parse([]byte(tmpl), WithParameters(tt.params))
			if err != nil {
				t.Fatal(err)
			}
			env := tm.Functions["Fn"].Env
			for k, v := range tt.want {
				if env[k] != v {
					t.Errorf("env %s = %q, want %q", k, env[k], v)
				}
			}
			if len(env) != len(tt.want) {
				t.Errorf("env = %v, want exactly %v", env, tt.want)
			}
		})
	}
}

func TestConditionErrors(t *testing.T) {
	env := func(v string) string {
		return condHead + `
  Fn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ., Environment: {Variables: {X: ` + v + `}}}
`
	}
	tests := []struct{ name, tmpl, messageHas string }{
		{"unknown condition", env(`!If [Nope, a, b]`), "Nope is not in Conditions"},
		{"cycle", env(`!If [Loop1, a, b]`), "refers to itself"},
		{"if arity", env(`!If [IsPrivate, a]`), "Fn::If takes a list of 3"},
		{"not a condition", env(`!If [!Ref Mode, a, b]`), "condition name"},
		{"and arity", strings.Replace(env(`!If [Bad, a, b]`), "Conditions:\n", "Conditions:\n  Bad: !And [!Condition IsPrivate]\n", 1), "Fn::And takes a list of 2 to 10"},
		{"condition not boolean", strings.Replace(env(`!If [Str, a, b]`), "Conditions:\n", "Conditions:\n  Str: !Ref Mode\n", 1), "want Fn::Equals"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.tmpl))
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is a %T, want *Error", err, err)
			}
			if !strings.Contains(err.Error(), tt.messageHas) {
				t.Errorf("error %q lacks %q", err, tt.messageHas)
			}
		})
	}
}

func TestAliasFunctionArn(t *testing.T) {
	tm, err := Parse([]byte(condHead + `
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev
      Auth:
        DefaultAuthorizer: A
        Authorizers:
          A: {FunctionArn: !Ref Auth.Alias}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Environment: {Variables: {AUTH: !Ref Auth.Alias}}
      Events:
        E: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /x, Method: GET}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tm.Functions["Fn"].Env["AUTH"], "arn:aws:lambda:us-east-1:123456789012:function:Auth:live"; got != want {
		t.Errorf("Ref Auth.Alias = %q, want %q", got, want)
	}
	if got := tm.API("Api").Authorizers["A"].Function; got != "Auth" {
		t.Errorf("authorizer function = %q, want Auth", got)
	}

	for _, tt := range []struct{ name, ref, messageHas string }{
		{"no alias", "!Ref Fn2.Alias", "no AutoPublishAlias"},
		{"other attribute", "!Ref Auth.Version", "only Ref <Function>.Alias"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(condHead + `
  Fn2:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ., Environment: {Variables: {X: ` + tt.ref + `}}}
`))
			if err == nil || !strings.Contains(err.Error(), tt.messageHas) {
				t.Fatalf("Parse error = %v, want one containing %q", err, tt.messageHas)
			}
		})
	}
}

func TestResourcePolicy(t *testing.T) {
	api := func(policy string) string {
		return condHead + `
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev
      Auth:
        ResourcePolicy:
` + policy
	}
	const allowAll = `{Effect: Allow, Principal: "*", Action: execute-api:Invoke, Resource: execute-api:/*}`
	const denyAdmin = `{Effect: Deny, Principal: "*", Action: execute-api:Invoke, Resource: execute-api:/*/*/admin/*, Condition: {NotIpAddress: {aws:SourceIp: !Split [",", !Ref Cidrs]}}}`
	switched := api(`          CustomStatements:
            - ` + allowAll + `
            - !If [HasCidrs, ` + denyAdmin + `, ` + allowAll + `]
`)
	t.Run("allows every local caller", func(t *testing.T) {
		tm, err := Parse([]byte(switched))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(tm.API("Api").ResourcePolicy); got != 2 {
			t.Fatalf("ResourcePolicy has %d statements, want 2", got)
		}
	})
	tests := []struct {
		name, tmpl string
		params     map[string]string
		messageHas string
	}{
		{"deny chosen by parameters", switched, map[string]string{"Cidrs": "10.0.0.0/8"}, "is not an Allow"},
		{"condition", api(`          CustomStatements: [{Effect: Allow, Principal: "*", Action: execute-api:Invoke, Resource: execute-api:/*, Condition: {IpAddress: {aws:SourceIp: 10.0.0.0/8}}}]
`), nil, "has a Condition"},
		{"ip whitelist", api(`          IpRangeWhitelist: [10.0.0.0/8]
`), nil, "IpRangeWhitelist"},
		{"no grant for everyone", api(`          CustomStatements: [{Effect: Allow, Principal: {AWS: "arn:aws:iam::1:root"}, Action: execute-api:Invoke, Resource: execute-api:/*}]
`), nil, "does not allow every caller"},
		{"other action", api(`          CustomStatements: [{Effect: Allow, Principal: "*", Action: execute-api:ManageConnections, Resource: execute-api:/*}]
`), nil, "execute-api:Invoke"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.tmpl), WithParameters(tt.params))
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			var e *Error
			if !errors.As(err, &e) || e.Resource != "Api" || e.Property != "Properties.Auth.ResourcePolicy" {
				t.Fatalf("error %v does not name Api / Properties.Auth.ResourcePolicy", err)
			}
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("errors.Is(%v, ErrUnsupported) = false, want true", err)
			}
			if !strings.Contains(err.Error(), tt.messageHas) {
				t.Errorf("error %q lacks %q", err, tt.messageHas)
			}
		})
	}
}

func TestConditionalResources(t *testing.T) {
	tmpl := condHead + `
  Api:
    Type: AWS::Serverless::Api
    Properties: {StageName: dev}
  Private:
    Type: AWS::Serverless::Function
    Condition: IsPrivate
    Properties:
      CodeUri: .
      Events:
        E: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /private, Method: GET}}
  Public:
    Type: AWS::Serverless::Function
    Condition: Either
    Properties:
      CodeUri: .
      Events:
        E: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /either, Method: GET}}
`
	for _, tt := range []struct {
		name      string
		params    map[string]string
		functions []string // besides Auth
		routes    []string
	}{
		{"defaults", nil, nil, nil},
		{"private", map[string]string{"Mode": "private"}, []string{"Private", "Public"}, []string{"GET /private", "GET /either"}},
		{"cidrs", map[string]string{"Cidrs": "10.0.0.0/8"}, []string{"Public"}, []string{"GET /either"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tm, err := Parse([]byte(tmpl), WithParameters(tt.params))
			if err != nil {
				t.Fatal(err)
			}
			// FunctionIDs is sorted, and so are the expectations.
			if got, want := strings.Join(tm.FunctionIDs(), ","), strings.Join(append([]string{"Auth"}, tt.functions...), ","); got != want {
				t.Errorf("functions = %s, want %s", got, want)
			}
			var routes []string
			for _, r := range tm.API("Api").Routes {
				routes = append(routes, r.Key())
			}
			if strings.Join(routes, ",") != strings.Join(tt.routes, ",") {
				t.Errorf("routes = %v, want %v", routes, tt.routes)
			}
		})
	}

	// A resource that references a function CloudFormation would not create
	// fails as in CloudFormation.
	_, err := Parse([]byte(tmpl + `
  Caller:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ., Environment: {Variables: {TARGET: !GetAtt Private.Arn}}}
`))
	if err == nil || !strings.Contains(err.Error(), "no such resource") {
		t.Errorf("reference to a resource whose condition is false: error %v, want \"no such resource\"", err)
	}
	if _, err := Parse([]byte(strings.Replace(tmpl, "Condition: IsPrivate", "Condition: Nope", 1))); err == nil || !strings.Contains(err.Error(), "Nope is not in Conditions") {
		t.Errorf("unknown condition: error %v", err)
	}
}
