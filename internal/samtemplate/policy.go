package samtemplate

import (
	"slices"

	"gopkg.in/yaml.v3"
)

// resourcePolicy reads a REST API's Auth.ResourcePolicy, resolved with the
// local parameters (Fn::If included). The local gateway does not evaluate
// resource policies, so it serves an API only when its policy cannot deny a
// local caller: CustomStatements only, every statement an unconditional
// Allow of execute-api:Invoke, and one of them granting every principal the
// whole API. Anything else (IpRangeWhitelist, a Deny, a Condition) is
// refused with [ErrUnsupported]: every local caller comes from 127.0.0.1
// without a VPC endpoint, so the gateway could not answer as AWS would.
func (d *doc) resourcePolicy(id string, n *yaml.Node) ([]map[string]any, error) {
	const prop = "Properties.Auth.ResourcePolicy"
	v, err := d.resolve(n, id, prop)
	if err != nil {
		return nil, err
	}
	if v == noValue {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, d.errf(n, id, prop, "not a mapping")
	}
	for k := range m {
		if k != "CustomStatements" {
			return nil, d.errAt(n, id, prop, unsupported("ResourcePolicy.%s (the local gateway does not evaluate resource policies; use CustomStatements that allow every caller locally)", k))
		}
	}
	var list []any
	switch cs := m["CustomStatements"].(type) {
	case []any:
		list = cs
	case map[string]any:
		list = []any{cs}
	case nil:
		return nil, nil
	default:
		return nil, d.errf(n, id, prop, "CustomStatements is a %s, want a list of statements", kindOf(cs))
	}
	var out []map[string]any
	grantsAll := false
	for _, item := range list {
		st, ok := item.(map[string]any)
		if !ok {
			return nil, d.errf(n, id, prop, "a statement is a %s, want a mapping", kindOf(item))
		}
		if why := localDenial(st); why != "" {
			return nil, d.errAt(n, id, prop, unsupported("resource policy statement %v %s: the local gateway cannot evaluate it (every local caller is 127.0.0.1, without a VPC endpoint)", st["Sid"], why))
		}
		if anyOf(st["Principal"], "*") || anyOf(principalAWS(st["Principal"]), "*") {
			if anyOf(st["Resource"], "execute-api:/*", "*") {
				grantsAll = true
			}
		}
		out = append(out, st)
	}
	if !grantsAll {
		return nil, d.errAt(n, id, prop, unsupported("a resource policy that does not allow every caller on execute-api:/*"))
	}
	return out, nil
}

// localDenial says why a statement could deny (or fail to allow) a local
// request, or "" when it is a plain Allow of execute-api:Invoke.
func localDenial(st map[string]any) string {
	switch {
	case st["Effect"] != "Allow":
		return "is not an Allow"
	case st["Condition"] != nil:
		return "has a Condition"
	case st["NotPrincipal"] != nil || st["NotAction"] != nil || st["NotResource"] != nil:
		return "uses NotPrincipal, NotAction or NotResource"
	case !anyOf(st["Action"], "execute-api:Invoke", "execute-api:*", "*"):
		return "does not allow execute-api:Invoke"
	}
	return ""
}

func principalAWS(p any) any {
	if m, ok := p.(map[string]any); ok {
		return m["AWS"]
	}
	return nil
}

// anyOf reports whether v (a string or a list of strings) holds one of want.
func anyOf(v any, want ...string) bool {
	switch v := v.(type) {
	case string:
		return slices.Contains(want, v)
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok && slices.Contains(want, s) {
				return true
			}
		}
	}
	return false
}
