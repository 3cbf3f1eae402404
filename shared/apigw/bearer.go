package apigw

import (
	"errors"
	"strings"
)

// ErrNoBearer means the credential is missing or is not "Bearer <token68>".
var ErrNoBearer = errors.New("no bearer token")

// BearerToken extracts the token from an Authorization value of the form
// "Bearer <token>" (RFC 6750): the scheme is case-insensitive and separated
// by one or more spaces; the token uses only token68 characters.
func BearerToken(authorization string) (string, error) {
	scheme, rest, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", ErrNoBearer
	}
	tok := strings.TrimLeft(rest, " ")
	if tok == "" || !isToken68(tok) {
		return "", ErrNoBearer
	}
	return tok, nil
}

func isToken68(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			break
		}
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}
