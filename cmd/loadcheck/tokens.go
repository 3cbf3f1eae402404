package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/shared/signer"
)

// The subjects of the classes signed with the current key.
const (
	subjectValid      = "load-alice"
	subjectRevoked    = "load-mallory"
	subjectUnentitled = "load-bob"
)

// mint signs a token for sub with scope, valid for two hours.
func mint(s *signer.Signer, sub, scope string) (string, error) {
	return s.Sign(demo.Claims(sub, scope, 2*time.Hour))
}

// currentTokens are the class files that follow AWSCURRENT: rewritten after
// every rotation, as an issuer that signs with the new key at once would.
func currentTokens(cur *signer.Signer) (map[string][]string, error) {
	out := map[string][]string{}
	for _, c := range []struct{ class, sub, scope string }{
		{classValid, subjectValid, "orders:read"},
		{classValid, subjectValid + "-2", "orders:read orders:write"},
		{classRevoked, subjectRevoked, "orders:read"},
		{classUnentitled, subjectUnentitled, "orders:write"},
	} {
		tok, err := mint(cur, c.sub, c.scope)
		if err != nil {
			return nil, err
		}
		out[c.class] = append(out[c.class], tok)
	}
	return out, nil
}

// invalidTokens are tokens no authorizer may accept: forged, expired,
// unknown key, wrong audience, alg none, malformed.
func invalidTokens(cur *signer.Signer) ([]string, error) {
	b64 := base64.RawURLEncoding
	enc := func(v any) string { b, _ := json.Marshal(v); return b64.EncodeToString(b) }
	now := time.Now()
	good, err := mint(cur, "load-eve", "orders:read")
	if err != nil {
		return nil, err
	}
	parts := strings.Split(good, ".")
	set, err := signer.Generate(demo.Alg, 0)
	if err != nil {
		return nil, err
	}
	stranger, err := signer.New(set)
	if err != nil {
		return nil, err
	}
	unknown, err := mint(stranger, "load-eve", "orders:read")
	if err != nil {
		return nil, err
	}
	expired, err := cur.Sign(map[string]any{"iss": demo.Issuer, "aud": demo.Audience, "sub": "load-eve", "scope": "orders:read",
		"iat": now.Add(-3 * time.Hour).Unix(), "exp": now.Add(-2 * time.Hour).Unix()})
	if err != nil {
		return nil, err
	}
	audience, err := cur.Sign(map[string]any{"iss": demo.Issuer, "aud": "api://someone-else", "sub": "load-eve", "scope": "orders:read",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	if err != nil {
		return nil, err
	}
	tampered := parts[0] + "." + enc(map[string]any{"iss": demo.Issuer, "aud": demo.Audience, "sub": "root", "scope": "orders:read admin",
		"exp": now.Add(time.Hour).Unix()}) + "." + parts[2]
	none := enc(map[string]any{"alg": "none", "kid": cur.KeyID()}) + "." + parts[1] + "."
	return []string{unknown, expired, audience, tampered, none, parts[0] + "." + parts[1], "not-a-jwt", parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-4] + "AAAA"}, nil
}

// writeTokens replaces a class file atomically (the wrk script re-reads it).
func writeTokens(dir, class string, toks []string) error {
	tmp := filepath.Join(dir, class+".tok.tmp")
	if err := os.WriteFile(tmp, []byte(strings.Join(toks, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, class+".tok")); err != nil {
		return fmt.Errorf("write %s tokens: %w", class, err)
	}
	return nil
}
