package validate

import (
	"context"
	"encoding/json"
	"testing"
)

// TestUnknownMembers pins down how schema keywords decide which members are
// declared.
func TestUnknownMembers(t *testing.T) {
	tests := []struct {
		name    string
		schema  string
		body    string
		rule    Rule // "" means accepted
		pointer string
	}{
		{"forgot additionalProperties: false", `{"type":"object","properties":{"a":{}}}`, `{"a":1,"b":2}`, RuleUnknownMember, "#/b"},
		{"type object alone accepts only {}", `{"type":"object"}`, `{"a":1}`, RuleUnknownMember, "#/a"},
		{"empty schema accepts anything", `{}`, `{"a":{"b":[{"c":1}]}}`, "", ""},
		{"true accepts anything", `true`, `{"a":{"b":1}}`, "", ""},
		{"empty member schema is free-form", `{"properties":{"a":{}}}`, `{"a":{"x":{"y":1}}}`, "", ""},
		{"declared object member is strict", `{"properties":{"a":{"type":"object","properties":{"x":{}}}}}`, `{"a":{"x":1,"y":2}}`, RuleUnknownMember, "#/a/y"},
		{"additionalProperties true opts in", `{"properties":{"a":{}},"additionalProperties":true}`, `{"a":1,"b":{"c":1}}`, "", ""},
		{"additionalProperties schema opts in and applies", `{"additionalProperties":{"type":"object","properties":{"n":{}}}}`, `{"x":{"n":1},"y":{"m":1}}`, RuleUnknownMember, "#/y/m"},
		{"additionalProperties false", `{"properties":{"a":{}},"additionalProperties":false}`, `{"b":1}`, RuleUnknownMember, "#/b"},
		{"patternProperties", `{"patternProperties":{"^x-":{"type":"string"}}}`, `{"x-trace":"1","y":"2"}`, RuleUnknownMember, "#/y"},
		{"patternProperties only", `{"patternProperties":{"^x-":{"type":"string"}}}`, `{"x-trace":"1"}`, "", ""},
		{"allOf unites properties", `{"allOf":[{"properties":{"a":{}}},{"properties":{"b":{}}}]}`, `{"a":1,"b":2}`, "", ""},
		{"allOf still rejects others", `{"allOf":[{"properties":{"a":{}}},{"properties":{"b":{}}}]}`, `{"a":1,"c":2}`, RuleUnknownMember, "#/c"},
		{"anyOf branches united", `{"anyOf":[{"properties":{"card":{}}},{"properties":{"iban":{}}}]}`, `{"iban":"x"}`, "", ""},
		{"oneOf branches united", `{"oneOf":[{"properties":{"card":{}},"required":["card"]},{"properties":{"iban":{}},"required":["iban"]}]}`, `{"iban":"x","bic":"y"}`, RuleUnknownMember, "#/bic"},
		{"$ref followed", `{"$defs":{"P":{"type":"object","properties":{"n":{}}}},"properties":{"p":{"$ref":"#/$defs/P"}}}`, `{"p":{"n":1,"m":2}}`, RuleUnknownMember, "#/p/m"},
		{"recursive $ref", `{"$defs":{"T":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#/$defs/T"}},"v":{}}}},"$ref":"#/$defs/T"}`,
			`{"kids":[{"v":1,"kids":[{"v":2,"w":3}]}]}`, RuleUnknownMember, "#/kids/0/kids/0/w"},
		{"if/then/else", `{"properties":{"kind":{}},"if":{"properties":{"kind":{"const":"a"}}},"then":{"properties":{"x":{}}},"else":{"properties":{"y":{}}}}`,
			`{"kind":"a","x":1}`, "", ""},
		{"dependentSchemas", `{"properties":{"card":{}},"dependentSchemas":{"card":{"properties":{"cvv":{}}}}}`, `{"card":"1","cvv":"2"}`, "", ""},
		{"array items", `{"type":"array","items":{"type":"object","properties":{"id":{}}}}`, `[{"id":1},{"id":2,"x":3}]`, RuleUnknownMember, "#/1/x"},
		{"prefixItems", `{"prefixItems":[{"properties":{"a":{}}}],"items":{"properties":{"b":{}}}}`, `[{"a":1},{"b":2},{"a":3}]`, RuleUnknownMember, "#/2/a"},
		{"array without items is free", `{"type":"array"}`, `[{"x":1}]`, "", ""},
		{"unevaluatedProperties false", `{"properties":{"a":{}},"unevaluatedProperties":false}`, `{"a":1,"b":2}`, RuleUnknownMember, "#/b"},
		{"unevaluatedProperties schema opts in", `{"properties":{"a":{}},"unevaluatedProperties":{"type":"integer"}}`, `{"a":1,"b":2}`, "", ""},
		{"draft-04 tuple items", `{"$schema":"http://json-schema.org/draft-04/schema#","items":[{"properties":{"a":{}}}],"additionalItems":{"properties":{"b":{}}}}`,
			`[{"a":1},{"b":2},{"c":3}]`, RuleUnknownMember, "#/2/c"},
		{"draft-04 $ref ignores siblings", `{"$schema":"http://json-schema.org/draft-04/schema#","definitions":{"D":{"properties":{"a":{}}}},"properties":{"d":{"$ref":"#/definitions/D","properties":{"b":{}}}}}`,
			`{"d":{"b":1}}`, RuleUnknownMember, "#/d/b"},
		{"unknown member reported before a schema error", `{"properties":{"a":{"type":"string"}}}`, `{"a":1,"b":2}`, RuleUnknownMember, "#/b"},
		{"not is ignored", `{"properties":{"a":{}},"not":{"properties":{"b":{}}}}`, `{"b":1}`, RuleUnknownMember, "#/b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _ := json.Marshal(map[string]any{"routes": map[string]any{"POST /x": map[string]any{"schema": json.RawMessage(tt.schema)}}})
			v, err := New(cfg, WithLogger(discardLogger()))
			if err != nil {
				t.Fatal(err)
			}
			err = v.Validate(context.Background(), jsonPost("/x", tt.body))
			if tt.rule == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			p, ok := err.(*Problem)
			if !ok || p.Rule != tt.rule || p.Pointer != tt.pointer {
				t.Fatalf("Validate = %v, want %s at %s", err, tt.rule, tt.pointer)
			}
		})
	}
}
