package keyring

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Discover returns the jwks_uri of an OpenID Connect issuer, read from
// {issuer}/.well-known/openid-configuration (OpenID Connect Discovery 1.0).
// The document's issuer must equal issuer exactly, and the jwks_uri, like
// the issuer, must be https (http only to a loopback host, for tests and
// local emulation). The request is bounded by [DefaultFetchTimeout] and the
// response by [DefaultMaxBodySize]. client nil means a private default
// client.
//
// Call it at init, or on the first request, and pass the result to
// [FromJWKS].
func Discover(ctx context.Context, client *http.Client, issuer string) (string, error) {
	if client == nil {
		client = &http.Client{}
	}
	if err := checkURL(issuer); err != nil {
		return "", fmt.Errorf("discover issuer %s: %w", clip(issuer), err)
	}
	wellKnown := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	body, err := getJSON(ctx, client, wellKnown, DefaultFetchTimeout, DefaultMaxBodySize)
	if err != nil {
		return "", fmt.Errorf("discover issuer %s: %w", clip(issuer), err)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("discover issuer %s: decode configuration: %w", clip(issuer), err)
	}
	if doc.Issuer != issuer {
		return "", fmt.Errorf("discover issuer %s: configuration names issuer %s", clip(issuer), clip(doc.Issuer))
	}
	if doc.JWKSURI == "" {
		return "", fmt.Errorf("discover issuer %s: configuration has no jwks_uri", clip(issuer))
	}
	if err := checkURL(doc.JWKSURI); err != nil {
		return "", fmt.Errorf("discover issuer %s: jwks_uri: %w", clip(issuer), err)
	}
	return doc.JWKSURI, nil
}
