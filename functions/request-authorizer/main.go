// Command request-authorizer is the Lambda REQUEST authorizer for signed
// requests (RFC 9421, hmac-sha256), API client credentials, source-IP rules
// and mutual-TLS client certificates, for REST APIs (payload 1.0) and HTTP
// APIs (payload 1.0 and 2.0). See the README for its configuration.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/apigw-guard/guard/shared/apigw"
	"github.com/apigw-guard/guard/shared/awsconfig"
	"github.com/apigw-guard/guard/shared/credential"
	"github.com/apigw-guard/guard/shared/httpsig"
	"github.com/apigw-guard/guard/shared/observe"
	"github.com/apigw-guard/guard/shared/replay"
	"github.com/apigw-guard/guard/shared/revocation"
	"github.com/apigw-guard/guard/shared/secretver"
)

func main() {
	log := observe.NewLogger()
	slog.SetDefault(log)
	// Metrics (EMF) go to stdout, even while misconfigured: the fail-closed
	// answers must be counted.
	obs, obsErr := newObserver(os.Getenv, os.Stdout)
	h, err := setup(context.Background(), log, obs)
	if err = errors.Join(obsErr, err); err != nil {
		log.Error("bad configuration: every invocation fails closed until it is fixed", "err", err)
		lambda.Start(apigw.Handler(obs.misconfigured(apigw.Misconfigured(log, err))))
		return
	}
	lambda.Start(apigw.Handler(h.handle))
}

// setup builds the handler and everything it reuses across invocations. It
// makes no network call: the secret is read on first use.
func setup(ctx context.Context, log *slog.Logger, obs *observer) (*handler, error) {
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.Load(ctx, awsconfig.Options{})
	if err != nil {
		return nil, err
	}
	sm := secretsmanager.NewFromConfig(awsCfg)
	reader, err := secretver.Open(cfg.secretID, sm, cfg.cacheTTL, secretver.WithCoolDown(cfg.coolDown))
	if err != nil {
		return nil, err
	}
	store := credential.NewStore(obs.credentials(reader), credential.WithCache(cfg.verifiedTTL, 0))

	var guard httpsig.ReplayGuard = replay.NewMemory(cfg.replaySize)
	if cfg.nonceTable != "" {
		guard = replay.NewTable(dynamodb.NewFromConfig(awsCfg), cfg.nonceTable)
	}
	sig, err := httpsig.NewVerifier(secretKeys{store},
		httpsig.WithWindow(cfg.window), httpsig.WithClockSkew(cfg.skew),
		httpsig.WithRequired(cfg.components...), httpsig.WithLabel(cfg.label), httpsig.WithTag(cfg.tag),
		httpsig.WithReplayGuard(guard))
	if err != nil {
		return nil, err
	}
	if cfg.routes.hasIPRules() || !cfg.apiIP.Empty() {
		log.Info("source-IP rules are configured: the authorizer's identity sources must include the source IP when caching is on (see README)")
	}
	h := &handler{
		routes: cfg.routes, apiIP: cfg.apiIP, sig: sig, creds: store,
		idHeader: cfg.clientIDHeader, secretHeader: cfg.secretHeader, simple: cfg.simple,
		log: log, now: time.Now, obs: obs,
	}
	if cfg.revocation.Table != "" {
		h.revoked = revocation.NewView(dynamodb.NewFromConfig(awsCfg), cfg.revocation.Table,
			append(cfg.revocation.Options(), revocation.WithOnStaleAnswer(revocation.StaleLogger(log, 10*time.Second)))...)
	}
	return h, nil
}
