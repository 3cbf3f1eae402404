package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/apigw-guard/guard/internal/samtemplate"
)

// gatewayError is one of API Gateway's own responses ("gateway responses").
type gatewayError struct {
	status  int
	errType string  // REST x-amzn-ErrorType
	message *string // nil writes {"message":null}
}

func msg(s string) *string { return &s }

// REST API gateway responses, with API Gateway's default bodies and error
// types.
var (
	restUnauthorized   = gatewayError{401, "UnauthorizedException", msg("Unauthorized")}
	restExplicitDeny   = gatewayError{403, "AccessDeniedException", msg("User is not authorized to access this resource with an explicit deny")}
	restImplicitDeny   = gatewayError{403, "AccessDeniedException", msg("User is not authorized to access this resource")}
	restAuthorizerFail = gatewayError{500, "AuthorizerConfigurationException", nil}
	restMissingToken   = gatewayError{403, "MissingAuthenticationTokenException", msg("Missing Authentication Token")}
	restForbidden      = gatewayError{403, "ForbiddenException", msg("Forbidden")}
	restIntegration    = gatewayError{502, "InternalServerErrorException", msg("Internal server error")}
	restTimeout        = gatewayError{504, "InternalServerErrorException", msg("Endpoint request timed out")}
	restTooLarge       = gatewayError{413, "RequestTooLargeException", msg("Request Too Long")}
	restURITooLong     = gatewayError{414, "", msg("Request-URI Too Long")}
)

// HTTP API gateway responses. HTTP APIs send no x-amzn-ErrorType.
var (
	httpUnauthorized = gatewayError{401, "", msg("Unauthorized")}
	httpForbidden    = gatewayError{403, "", msg("Forbidden")}
	httpInternal     = gatewayError{500, "", msg("Internal Server Error")}
	httpNotFound     = gatewayError{404, "", msg("Not Found")}
	httpUnavailable  = gatewayError{503, "", msg("Service Unavailable")}
	httpTooLarge     = gatewayError{413, "", msg("Request Entity Too Large")}
	httpURITooLong   = gatewayError{414, "", msg("Request-URI Too Long")}
)

// outcome names the gateway responses that differ between REST and HTTP
// APIs.
type outcome int

const (
	outUnauthorized outcome = iota
	outExplicitDeny
	outImplicitDeny
	outAuthorizerFail
	outNoRoute
	outNoStage
	outIntegration
	outTimeout
	outTooLarge
	outURITooLong
	outInvalidAPIKey
)

func errorFor(k samtemplate.Kind, o outcome) gatewayError {
	if k == samtemplate.REST {
		return [...]gatewayError{restUnauthorized, restExplicitDeny, restImplicitDeny, restAuthorizerFail,
			restMissingToken, restForbidden, restIntegration, restTimeout, restTooLarge, restURITooLong, restForbidden}[o]
	}
	return [...]gatewayError{httpUnauthorized, httpForbidden, httpForbidden, httpInternal,
		httpNotFound, httpNotFound, httpInternal, httpUnavailable, httpTooLarge, httpURITooLong, httpForbidden}[o]
}

// requestHeaders sets the request-id headers API Gateway adds to every
// response.
func requestHeaders(h http.Header, k samtemplate.Kind, id, extID string) {
	if k == samtemplate.REST {
		h.Set("X-Amzn-Requestid", id)
		h.Set("X-Amz-Apigw-Id", extID)
		return
	}
	h.Set("Apigw-Requestid", extID)
}

func writeGatewayError(w http.ResponseWriter, k samtemplate.Kind, id, extID string, e gatewayError) {
	h := w.Header()
	requestHeaders(h, k, id, extID)
	h.Set("Content-Type", "application/json")
	if e.errType != "" {
		h.Set("X-Amzn-Errortype", e.errType)
	}
	body, _ := json.Marshal(struct {
		Message *string `json:"message"`
	}{e.message})
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// newRequestID returns a random UUID (version 4), like API Gateway's
// request ids.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newExtendedID returns an id shaped like API Gateway's extended request id
// ("ABCDEFGHIJKLMNO=").
func newExtendedID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b [15]byte
	_, _ = rand.Read(b[:])
	out := make([]byte, 16)
	for i, c := range b {
		out[i] = alphabet[int(c)%len(alphabet)]
	}
	out[15] = '='
	return string(out)
}

// newTraceID returns an X-Ray trace header value.
func newTraceID(unix int64) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "Root=1-" + strconv.FormatInt(unix, 16) + "-" + hex.EncodeToString(b[:])
}
