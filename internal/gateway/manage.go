package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/apigw-guard/guard/internal/samtemplate"
)

// writeAWSError writes an AWS service error the way the REST-JSON protocol
// does: the type in x-amzn-ErrorType and a JSON body with the message.
func writeAWSError(w http.ResponseWriter, status int, errType string, body any) {
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Errortype", errType)
	h.Set("X-Amzn-Requestid", newRequestID())
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

type messageBody struct {
	Message string `json:"message"`
}

// pathSegments splits an escaped path after prefix into decoded segments.
func pathSegments(r *http.Request, prefix string) ([]string, bool) {
	rest := strings.TrimPrefix(r.URL.EscapedPath(), prefix)
	parts := strings.Split(rest, "/")
	for i, p := range parts {
		d, err := url.PathUnescape(p)
		if err != nil {
			return nil, false
		}
		parts[i] = d
	}
	return parts, true
}

// manageREST serves the REST API (apigateway) management calls the suite
// uses: FlushStageAuthorizersCache (DELETE
// /restapis/{id}/stages/{stage}/cache/authorizers, 202) and FlushStageCache
// (DELETE .../cache/data, 202; there is no response cache to flush).
func (g *Gateway) manageREST(w http.ResponseWriter, r *http.Request) {
	segs, ok := pathSegments(r, restManagementPrefix)
	if !ok || len(segs) != 5 || segs[1] != "stages" || segs[3] != "cache" ||
		(segs[4] != "authorizers" && segs[4] != "data") || r.Method != http.MethodDelete {
		writeAWSError(w, http.StatusBadRequest, "BadRequestException",
			messageBody{"the local gateway implements only FlushStageAuthorizersCache and FlushStageCache"})
		return
	}
	id, stage := segs[0], segs[2]
	api := g.apis[id]
	if api == nil || api.Kind != samtemplate.REST {
		writeAWSError(w, http.StatusNotFound, "NotFoundException", messageBody{"Invalid API identifier specified " + g.account + ":" + id})
		return
	}
	if api.Stage != stage {
		writeAWSError(w, http.StatusNotFound, "NotFoundException", messageBody{"Invalid stage identifier specified"})
		return
	}
	if segs[4] == "authorizers" {
		n := g.cache.flush(scope(api))
		g.log.Info("FlushStageAuthorizersCache", "apiId", id, "stage", stage, "entries", n)
	}
	w.Header().Set("X-Amzn-Requestid", newRequestID())
	w.WriteHeader(http.StatusAccepted)
}

// manageHTTP serves the HTTP API (apigatewayv2) call ResetAuthorizersCache
// (DELETE /v2/apis/{id}/stages/{stage}/cache/authorizers, 204).
func (g *Gateway) manageHTTP(w http.ResponseWriter, r *http.Request) {
	segs, ok := pathSegments(r, httpManagementPrefix)
	if !ok || len(segs) != 5 || segs[1] != "stages" || segs[3] != "cache" || segs[4] != "authorizers" || r.Method != http.MethodDelete {
		writeAWSError(w, http.StatusBadRequest, "BadRequestException",
			messageBody{"the local gateway implements only ResetAuthorizersCache"})
		return
	}
	id, stage := segs[0], segs[2]
	api := g.apis[id]
	if api == nil || api.Kind != samtemplate.HTTP {
		writeAWSError(w, http.StatusNotFound, "NotFoundException", map[string]string{"message": "Invalid API identifier specified " + id, "resourceType": "Api"})
		return
	}
	if api.Stage != stage {
		writeAWSError(w, http.StatusNotFound, "NotFoundException", map[string]string{"message": "Invalid stage identifier specified " + stage, "resourceType": "Stage"})
		return
	}
	n := g.cache.flush(scope(api))
	g.log.Info("ResetAuthorizersCache", "apiId", id, "stage", stage, "entries", n)
	w.Header().Set("X-Amzn-Requestid", newRequestID())
	w.WriteHeader(http.StatusNoContent)
}

// maxInvokePayload is Lambda's synchronous request payload limit.
const maxInvokePayload = 6 << 20

// invokeLambda serves the Lambda Invoke API
// (POST /2015-03-31/functions/{name}/invocations) for the template's
// functions, so a function that invokes another one works locally.
func (g *Gateway) invokeLambda(w http.ResponseWriter, r *http.Request) {
	segs, ok := pathSegments(r, lambdaInvokePrefix)
	if !ok || len(segs) != 2 || segs[1] != "invocations" || r.Method != http.MethodPost {
		writeAWSError(w, http.StatusBadRequest, "InvalidRequestContentException",
			map[string]string{"Type": "User", "message": "the local gateway implements only Invoke"})
		return
	}
	fn := g.tmpl.FunctionNamed(segs[0])
	var inv Invoker
	if fn != nil {
		inv = g.fns[fn.LogicalID]
	}
	if q := r.URL.Query().Get("Qualifier"); q != "" && q != "$LATEST" {
		inv = nil
	}
	if inv == nil {
		writeAWSError(w, http.StatusNotFound, "ResourceNotFoundException",
			map[string]string{"Type": "User", "message": "Function not found: " + samtemplate.FunctionARN(segs[0])})
		return
	}
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxInvokePayload))
	if err != nil {
		writeAWSError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException",
			map[string]string{"Type": "User", "message": "Request must be smaller than 6291456 bytes for the InvokeFunction operation"})
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	if !json.Valid(payload) {
		writeAWSError(w, http.StatusBadRequest, "InvalidRequestContentException",
			map[string]string{"Type": "User", "message": "Could not parse request body into json"})
		return
	}
	h := w.Header()
	h.Set("X-Amzn-Requestid", newRequestID())
	switch r.Header.Get("X-Amz-Invocation-Type") {
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
			defer cancel()
			res, err := inv.Invoke(ctx, payload)
			switch {
			case err != nil:
				g.log.Warn("asynchronous invocation failed", "function", fn.LogicalID, "err", err)
			case res.Err != nil:
				g.log.Warn("asynchronous invocation failed", "function", fn.LogicalID, "errorType", res.Err.Type)
			}
		}()
		w.WriteHeader(http.StatusAccepted)
		return
	}
	res, err := inv.Invoke(r.Context(), payload)
	if err != nil {
		g.log.Error("Lambda Invoke", "function", fn.LogicalID, "err", err)
		writeAWSError(w, http.StatusInternalServerError, "ServiceException",
			map[string]string{"Type": "Service", "message": "the function's emulator could not be reached"})
		return
	}
	body := res.Payload
	if res.Err != nil {
		h.Set("X-Amz-Function-Error", "Unhandled")
		body, _ = json.Marshal(map[string]string{"errorMessage": res.Err.Message, "errorType": res.Err.Type})
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Amz-Executed-Version", "$LATEST")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
