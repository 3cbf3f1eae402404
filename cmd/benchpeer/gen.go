package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/apigw-guard/guard/shared/signer"
)

// gen writes one key per algorithm and n distinct tokens for each into dir.
func gen(dir string, n int) error {
	if dir == "" {
		return errNoDir
	}
	if n < 1 {
		return fmt.Errorf("-tokens %d: want at least 1", n)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var public struct {
		Keys []json.RawMessage `json:"keys"`
	}
	var secret []byte
	tf := tokenFile{Issuer: benchIssuer, Audience: benchAudience, Tokens: map[string][]string{}}
	now := time.Now()
	for _, alg := range algs {
		set, err := signer.Generate(alg, 0)
		if err != nil {
			return err
		}
		s, err := signer.New(set)
		if err != nil {
			return err
		}
		if alg[:2] == "HS" {
			secret = set
		} else {
			pub, err := signer.PublicSet(set)
			if err != nil {
				return err
			}
			var ks struct {
				Keys []json.RawMessage `json:"keys"`
			}
			if err := json.Unmarshal(pub, &ks); err != nil {
				return err
			}
			public.Keys = append(public.Keys, ks.Keys...)
		}
		for i := range n {
			tok, err := s.Sign(claims(now, i))
			if err != nil {
				return err
			}
			tf.Tokens[alg] = append(tf.Tokens[alg], tok)
		}
	}
	if err := writeJSON(filepath.Join(dir, "jwks.json"), public); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "secret.jwks.json"), secret, 0o600); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, "tokens.json"), tf)
}

// claims are a Cognito-sized access token's claims, distinct per i, valid
// for two hours from now.
func claims(now time.Time, i int) map[string]any {
	return map[string]any{
		"iss": benchIssuer, "aud": benchAudience,
		"sub":   fmt.Sprintf("8f4e2b1a-%04d-4c3d-9e8f-0a1b2c3d4e5f", i),
		"exp":   now.Add(2 * time.Hour).Unix(),
		"iat":   now.Add(-time.Minute).Unix(),
		"nbf":   now.Add(-time.Minute).Unix(),
		"jti":   fmt.Sprintf("token-%d", i),
		"scope": "orders:read orders:write profile", "cognito:groups": []string{"analysts", "ops"},
		"tenant": "acme", "client_id": "6a7b8c9d0e1f2g3h4i5j6k7l8m", "token_use": "access",
		"auth_time": now.Add(-time.Hour).Unix(), "version": 2,
		"origin_jti": fmt.Sprintf("0f1e2d3c-4b5a-6978-%04d-abcdefabcdef", i),
		"username":   fmt.Sprintf("user-%d@example.com", i),
	}
}
