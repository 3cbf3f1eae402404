package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Strict JSON helpers. encoding/json matches member names case-insensitively
// and keeps the last of duplicate members; a policy or route table that says
// {"Effect":"Deny","Effect":"Allow"} must be refused, not guessed at.

type member struct {
	name string
	raw  json.RawMessage
}

// jsonObject returns the members of a JSON object in order, refusing
// duplicate names and trailing data.
func jsonObject(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := expectDelim(dec, '{', "an object"); err != nil {
		return nil, err
	}
	var out []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxErr(err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("malformed object")
		}
		if seen[name] {
			return nil, fmt.Errorf("duplicate member %q", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntaxErr(err)
		}
		out = append(out, member{name: name, raw: raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntaxErr(err)
	}
	return out, expectEOF(dec)
}

// jsonArray returns the elements of a JSON array, refusing trailing data.
func jsonArray(data []byte) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := expectDelim(dec, '[', "an array"); err != nil {
		return nil, err
	}
	var out []json.RawMessage
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntaxErr(err)
		}
		out = append(out, raw)
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntaxErr(err)
	}
	return out, expectEOF(dec)
}

func expectDelim(dec *json.Decoder, d json.Delim, what string) error {
	tok, err := dec.Token()
	if err != nil {
		return syntaxErr(err)
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return fmt.Errorf("want %s, got %s", what, describe(tok))
	}
	return nil
}

func expectEOF(dec *json.Decoder) error {
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

func syntaxErr(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("unexpected end of JSON")
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

func describe(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		return fmt.Sprintf("%q", v.String())
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

// jsonString decodes a JSON string (not null).
func jsonString(raw []byte) (string, error) {
	var s string
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return "", errors.New("want a string, got null")
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errors.New("want a string")
	}
	return s, nil
}

// jsonStrings decodes a JSON array of strings (not null).
func jsonStrings(raw []byte) ([]string, error) {
	elems, err := jsonArray(raw)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		s, err := jsonString(e)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
