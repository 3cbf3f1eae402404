package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Policy language constants.
const (
	Version2012  = "2012-10-17"
	Version2008  = "2008-10-17"
	ActionInvoke = "execute-api:Invoke"
	EffectAllow  = "Allow"
	EffectDeny   = "Deny"
)

// Limits on policies [ParseDocument] accepts and [Evaluate] evaluates.
const (
	MaxResourceLength = 512 // characters in one Resource (and one Action) pattern
	maxDocumentInput  = 1 << 20
	maxPatterns       = 4096 // Action plus Resource entries across a document
)

// ErrInvalidDocument is wrapped by every error [ParseDocument] and
// [Document.Validate] return. API Gateway answers 500 for such a policy.
var ErrInvalidDocument = errors.New("invalid policy document")

// Document is an IAM policy document as a Lambda authorizer returns it. It
// marshals to API Gateway's shape:
//
//	{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":[...]}]}
//
// and unmarshals with the rules of [ParseDocument].
type Document struct {
	Version   string
	Statement []Statement
}

// Statement is one statement of a [Document]. Effect is "Allow" or "Deny";
// like API Gateway, parsing and evaluation accept any letter case.
type Statement struct {
	Effect   string
	Action   StringOrList
	Resource StringOrList
}

// StringOrList is a policy element that JSON may give as one string or as
// an array of strings. It marshals as a string when it holds exactly one
// value and as an array otherwise.
type StringOrList []string

// MarshalJSON implements json.Marshaler.
func (l StringOrList) MarshalJSON() ([]byte, error) {
	if len(l) == 1 {
		return json.Marshal(l[0])
	}
	return json.Marshal([]string(l))
}

// UnmarshalJSON implements json.Unmarshaler: a string or an array of
// strings; null and other types are errors.
func (l *StringOrList) UnmarshalJSON(data []byte) error {
	v, err := stringOrList(data)
	if err != nil {
		return err
	}
	*l = v
	return nil
}

func stringOrList(raw []byte) (StringOrList, error) {
	if s, err := jsonString(raw); err == nil {
		return StringOrList{s}, nil
	}
	list, err := jsonStrings(raw)
	if err != nil {
		return nil, errors.New("want a string or an array of strings")
	}
	return list, nil
}

// MarshalJSON implements json.Marshaler. Resource is always an array, as in
// API Gateway's examples.
func (s Statement) MarshalJSON() ([]byte, error) {
	res := []string(s.Resource)
	if res == nil {
		res = []string{}
	}
	return json.Marshal(struct {
		Action   StringOrList
		Effect   string
		Resource []string
	}{s.Action, s.Effect, res})
}

// UnmarshalJSON implements json.Unmarshaler with the rules of [ParseDocument].
func (s *Statement) UnmarshalJSON(data []byte) error {
	st, err := parseStatement(data)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidDocument, err)
	}
	*s = st
	return nil
}

// UnmarshalJSON implements json.Unmarshaler with the rules of [ParseDocument].
func (d *Document) UnmarshalJSON(data []byte) error {
	doc, err := ParseDocument(data)
	if err != nil {
		return err
	}
	*d = doc
	return nil
}

// ParseDocument parses a policy document the way API Gateway reads an
// authorizer's policyDocument. It is lenient where IAM is: Statement may be
// one object or an array, Action and Resource a string or an array,
// Effect in any letter case, Version absent (IAM then assumes 2008-10-17),
// and "Sid" and "Id" are accepted and ignored. It is strict where a wrong
// guess could let a request through: member names must have their exact
// case and appear once; Effect must be Allow or Deny; Action and Resource
// must be present and non-empty with patterns of at most 512 characters;
// and NotAction, NotResource, Condition, Principal and NotPrincipal, which
// an authorizer policy has no use for and this evaluator does not
// implement, are refused rather than ignored. Errors wrap
// [ErrInvalidDocument]: API Gateway answers 500 for a malformed policy.
func ParseDocument(data []byte) (Document, error) {
	var d Document
	if len(data) > maxDocumentInput {
		return d, fmt.Errorf("%w: %d bytes, more than %d", ErrInvalidDocument, len(data), maxDocumentInput)
	}
	fields, err := jsonObject(data)
	if err != nil {
		return d, fmt.Errorf("%w: %v", ErrInvalidDocument, err)
	}
	hasStatement := false
	for _, f := range fields {
		switch f.name {
		case "Version":
			if d.Version, err = jsonString(f.raw); err != nil {
				return d, fmt.Errorf("%w: Version: %v", ErrInvalidDocument, err)
			}
		case "Id":
			if _, err := jsonString(f.raw); err != nil {
				return d, fmt.Errorf("%w: Id: %v", ErrInvalidDocument, err)
			}
		case "Statement":
			hasStatement = true
			if d.Statement, err = parseStatements(f.raw); err != nil {
				return d, fmt.Errorf("%w: %v", ErrInvalidDocument, err)
			}
		default:
			return d, fmt.Errorf("%w: unknown member %q", ErrInvalidDocument, f.name)
		}
	}
	if !hasStatement {
		return d, fmt.Errorf("%w: no Statement", ErrInvalidDocument)
	}
	return d, d.Validate()
}

func parseStatements(raw []byte) ([]Statement, error) {
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' {
		st, err := parseStatement(raw)
		if err != nil {
			return nil, fmt.Errorf("Statement: %v", err)
		}
		return []Statement{st}, nil
	}
	elems, err := jsonArray(raw)
	if err != nil {
		return nil, errors.New("Statement: want an object or an array of objects")
	}
	out := make([]Statement, 0, len(elems))
	for i, e := range elems {
		st, err := parseStatement(e)
		if err != nil {
			return nil, fmt.Errorf("Statement[%d]: %v", i, err)
		}
		out = append(out, st)
	}
	return out, nil
}

func parseStatement(raw []byte) (Statement, error) {
	var st Statement
	fields, err := jsonObject(raw)
	if err != nil {
		return st, err
	}
	var hasEffect bool
	for _, f := range fields {
		switch f.name {
		case "Effect":
			hasEffect = true
			if st.Effect, err = jsonString(f.raw); err != nil {
				return st, fmt.Errorf("Effect: %v", err)
			}
		case "Action":
			if st.Action, err = stringOrList(f.raw); err != nil {
				return st, fmt.Errorf("Action: %v", err)
			}
		case "Resource":
			if st.Resource, err = stringOrList(f.raw); err != nil {
				return st, fmt.Errorf("Resource: %v", err)
			}
		case "Sid":
			if _, err := jsonString(f.raw); err != nil {
				return st, fmt.Errorf("Sid: %v", err)
			}
		case "NotAction", "NotResource", "Condition", "Principal", "NotPrincipal":
			return st, fmt.Errorf("%s is not supported in an authorizer policy", f.name)
		default:
			return st, fmt.Errorf("unknown member %q", f.name)
		}
	}
	if !hasEffect {
		return st, errors.New("no Effect")
	}
	return st, st.validate()
}

// Validate reports whether d is a policy API Gateway can evaluate, by the
// rules of [ParseDocument]. [Evaluate] never allows a request under a
// document that fails Validate.
func (d Document) Validate() error {
	switch d.Version {
	case "", Version2012, Version2008:
	default:
		return fmt.Errorf("%w: Version %q, want %s", ErrInvalidDocument, d.Version, Version2012)
	}
	n := 0
	for i, st := range d.Statement {
		if err := st.validate(); err != nil {
			return fmt.Errorf("%w: Statement[%d]: %v", ErrInvalidDocument, i, err)
		}
		n += len(st.Action) + len(st.Resource)
	}
	if n > maxPatterns {
		return fmt.Errorf("%w: %d patterns, more than %d", ErrInvalidDocument, n, maxPatterns)
	}
	return nil
}

func (st Statement) validate() error {
	if effectOf(st.Effect) == 0 {
		return fmt.Errorf("Effect %q, want Allow or Deny", st.Effect)
	}
	if err := checkPatterns("Action", st.Action); err != nil {
		return err
	}
	return checkPatterns("Resource", st.Resource)
}

func checkPatterns(name string, l StringOrList) error {
	if len(l) == 0 {
		return fmt.Errorf("no %s", name)
	}
	for _, p := range l {
		if p == "" {
			return fmt.Errorf("%s has an empty pattern", name)
		}
		if len(p) <= MaxResourceLength {
			continue // no more characters than bytes
		}
		if n := utf8.RuneCountInString(p); n > MaxResourceLength {
			return fmt.Errorf("%s pattern is %d characters, more than %d", name, n, MaxResourceLength)
		}
	}
	return nil
}

// effectOf maps an Effect, in any letter case, to Allow or Deny, or 0.
func effectOf(e string) Decision {
	switch {
	case strings.EqualFold(e, EffectAllow):
		return Allow
	case strings.EqualFold(e, EffectDeny):
		return Deny
	}
	return 0
}
