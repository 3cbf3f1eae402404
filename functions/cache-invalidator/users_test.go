package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// cognitoAPI answers AdminGetUser over the real wire protocol (JSON 1.1)
// from a fixed user list, and records each call's Authorization header (its SigV4 scope names the Region).
type cognitoAPI struct {
	users map[string]string // "pool/username" → sub
	fail  bool              // answer every call with a server error
	mu    sync.Mutex
	auths []string // the Authorization header of each call
}

func (c *cognitoAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct{ UserPoolId, Username string }
	if r.Header.Get("X-Amz-Target") != "AWSCognitoIdentityProviderService.AdminGetUser" || json.NewDecoder(r.Body).Decode(&in) != nil {
		http.Error(w, `{"__type":"InvalidParameterException","message":"bad call"}`, http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	// The SigV4 scope is credential/date/REGION/service/aws4_request.
	auth := r.Header.Get("Authorization")
	c.auths = append(c.auths, auth)
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if c.fail {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"__type":"InternalErrorException","message":"boom"}`))
		return
	}
	sub, ok := c.users[in.UserPoolId+"/"+in.Username]
	if !ok {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"UserNotFoundException","message":"User does not exist."}`))
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"Username": in.Username, "UserAttributes": []map[string]string{
		{"Name": "email", "Value": in.Username + "@example.com"}, {"Name": "sub", "Value": sub},
	}})
}

func TestCognitoUsersSubOf(t *testing.T) {
	const pool = "eu-west-1_AbCdEf123"
	const sub = "3f1c2a4b-5d6e-4f70-8a9b-0c1d2e3f4a5b"
	api := &cognitoAPI{users: map[string]string{pool + "/alice": sub}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	client := cip.New(cip.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: dummyCreds, RetryMaxAttempts: 1})
	users := newCognitoUsers(client, []string{pool})

	got, err := users.SubOf(context.Background(), pool, "alice")
	if err != nil || got != sub {
		t.Fatalf("SubOf(alice) = %q, %v; want %q", got, err, sub)
	}
	if len(api.auths) != 1 || !strings.Contains(api.auths[0], "/eu-west-1/cognito-idp/") {
		t.Errorf("call signed as %v, want the pool's Region eu-west-1", api.auths)
	}
	if _, err := users.SubOf(context.Background(), pool, "ghost"); !errors.Is(err, errUserNotFound) {
		t.Errorf("SubOf(ghost) err = %v, want errUserNotFound", err)
	}
	if got, err := users.SubOf(context.Background(), "us-east-1_Other", "alice"); got != "" || err != nil || len(api.auths) != 2 {
		t.Errorf("SubOf in an unlisted pool = %q, %v after %d calls; want no call and no answer", got, err, len(api.auths))
	}
	api.fail = true
	if _, err := users.SubOf(context.Background(), pool, "alice"); err == nil || errors.Is(err, errUserNotFound) {
		t.Errorf("SubOf with Cognito failing: err = %v, want a retryable error", err)
	}
}
