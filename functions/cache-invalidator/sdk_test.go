package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/apigw-guard/guard/shared/revocation"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var dummyCreds = credentials.NewStaticCredentialsProvider("test", "test", "")

// managementAPI stands in for API Gateway's management endpoints: it answers
// the first call on each path with a throttling error, as API Gateway does
// under load, and later ones with success.
type managementAPI struct {
	mu    sync.Mutex
	calls map[string]int
}

func (m *managementAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	key := r.Method + " " + r.URL.Path
	m.calls[key]++
	n := m.calls[key]
	m.mu.Unlock()
	if r.Header.Get("Authorization") == "" {
		http.Error(w, "unsigned", http.StatusForbidden)
		return
	}
	if n == 1 {
		w.Header().Set("X-Amzn-Errortype", "TooManyRequestsException")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"message":"Too Many Requests"}`)
		return
	}
	switch r.URL.Path {
	case "/restapis/abc123/stages/prod/cache/authorizers", "/restapis/abc123/stages/prod/cache/data":
		w.WriteHeader(http.StatusAccepted)
	case "/v2/apis/def456/stages/$default/cache/authorizers":
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("X-Amzn-Errortype", "NotFoundException")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"Invalid stage identifier specified"}`)
	}
}

// TestFlushThroughSDK runs the flusher over the real SDK clients, built as
// main builds them, against a local management endpoint.
func TestFlushThroughSDK(t *testing.T) {
	api := &managementAPI{calls: map[string]int{}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	rest := apigateway.New(apigateway.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: dummyCreds, RetryMaxAttempts: 1})
	http2 := apigatewayv2.New(apigatewayv2.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: dummyCreds, RetryMaxAttempts: 1})
	f := newFlusher(append(testTargets, target{Type: "rest", APIID: "nope", Stage: "prod"}), rest, http2, true)
	f.baseDelay = time.Millisecond

	results, err := f.flushAll(context.Background())
	fe, ok := err.(*FlushError)
	if !ok || len(fe.Failed) != 2 {
		t.Fatalf("err = %v, want a *FlushError for the two calls on the unknown API", err)
	}
	want := map[string]stageResult{
		"abc123 FlushStageAuthorizersCache": {Attempts: 2, Throttled: 1},
		"abc123 FlushStageCache":            {Attempts: 2, Throttled: 1},
		"def456 ResetAuthorizersCache":      {Attempts: 2, Throttled: 1},
	}
	for _, r := range results {
		w, ok := want[r.APIID+" "+r.Operation]
		if !ok {
			if r.Error == "" || r.Attempts != 2 {
				t.Errorf("%s %s: %+v; want an error after a retried throttle", r.APIID, r.Operation, r)
			}
			continue
		}
		if r.Error != "" || r.Attempts != w.Attempts || r.Throttled != w.Throttled {
			t.Errorf("%s %s: %+v; want success after %d attempts, %d throttled", r.APIID, r.Operation, r, w.Attempts, w.Throttled)
		}
	}
	for _, path := range []string{
		"DELETE /restapis/abc123/stages/prod/cache/authorizers",
		"DELETE /restapis/abc123/stages/prod/cache/data",
		"DELETE /v2/apis/def456/stages/$default/cache/authorizers",
	} {
		if n := api.calls[path]; n != 2 {
			t.Errorf("%s called %d times, want 2 (SDK retries off, ours on)", path, n)
		}
	}
}

// TestAgainstMoto runs the handler with the real writer and view over moto's
// DynamoDB: the entry is written, seen by a reader, and then flushed; a
// separate reader, as an authorizer holds, denies the revoked subject.
func TestAgainstMoto(t *testing.T) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skip("moto_server not on PATH")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(15 * time.Second); ; {
		resp, err := http.Get(endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: dummyCreds})
	ctx := context.Background()
	_, err = db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String("revocations"),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("gsi1pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("updatedAt"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(revocation.DefaultIndex),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("gsi1pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("updatedAt"), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}

	j := &journal{}
	rest := &fakeREST{j: j, errs: script{}, flushes: map[string]int{}, caches: map[string]int{}}
	httpAPI := &fakeHTTP{j: j, errs: script{}, resets: map[string]int{}}
	h := &handler{
		store:          revocation.NewWriter(db, "revocations"),
		view:           revocation.NewView(db, "revocations", revocation.WithRefreshInterval(pollEvery)),
		flusher:        newFlusher(testTargets, rest, httpAPI, false),
		settle:         100 * time.Millisecond,
		visibleTimeout: visibleTimeout,
		pollEvery:      pollEvery,
		now:            time.Now,
		sleep:          sleepContext,
	}
	authorizerView := revocation.NewView(db, "revocations", revocation.WithRefreshInterval(50*time.Millisecond))
	const iss = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab12Cd34E"
	const sub = "4f1c8e2a-9b7d-4e51-a3c6-2d8f0b6e7a19"
	issuedBefore := time.Now().Add(-time.Minute)
	if got, err := authorizerView.Check(ctx, iss, sub, "", issuedBefore); err != nil || got {
		t.Fatalf("before: Check = %v, %v; want false, nil", got, err)
	}

	// A direct invocation that names its time, so a redelivery is exact.
	ev := []byte(`{"subject":"` + sub + `","issuer":"` + iss + `","reason":"test","revokedAt":"` +
		time.Now().UTC().Format(time.RFC3339Nano) + `"}`)
	got, err := h.handle(ctx, ev)
	if err != nil {
		t.Fatalf("handle error: %v", err)
	}
	if out := got.(outcome); !out.Created || len(out.Stages) != 2 {
		t.Errorf("outcome = %+v, want created and two stages", out)
	}
	if rest.flushes["abc123/prod"] != 1 || httpAPI.resets["def456/$default"] != 1 {
		t.Errorf("flushes = %v %v, want one each", rest.flushes, httpAPI.resets)
	}
	time.Sleep(60 * time.Millisecond)
	if got, err := authorizerView.Check(ctx, iss, sub, "", issuedBefore); err != nil || !got {
		t.Errorf("after: Check = %v, %v; want true, nil", got, err)
	}
	if got, err := authorizerView.Check(ctx, iss, sub, "", time.Now().Add(2*time.Second)); err != nil || got {
		t.Errorf("new login: Check = %v, %v; want false, nil", got, err)
	}
	// Redelivery: nothing changes, the caches are flushed again.
	got, err = h.handle(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if out := got.(outcome); out.Created {
		t.Errorf("redelivery: created = true, want false")
	}
	if rest.flushes["abc123/prod"] != 2 {
		t.Errorf("flushes after redelivery = %d, want 2", rest.flushes["abc123/prod"])
	}
}
