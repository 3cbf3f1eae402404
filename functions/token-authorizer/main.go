// Command token-authorizer is the JWT Lambda authorizer for REST APIs (TOKEN
// and REQUEST, payload 1.0) and HTTP APIs (payload 2.0). See the README for
// its configuration.
package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/apigw-guard/guard/shared/apigw"
	"github.com/apigw-guard/guard/shared/awsconfig"
	"github.com/apigw-guard/guard/shared/keyring"
	"github.com/apigw-guard/guard/shared/observe"
	"github.com/apigw-guard/guard/shared/revocation"
	"github.com/apigw-guard/guard/shared/secretver"
	"github.com/apigw-guard/guard/shared/token"
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
// makes no network call: keys are fetched on first use.
func setup(ctx context.Context, log *slog.Logger, obs *observer) (*handler, error) {
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.Load(ctx, awsconfig.Options{})
	if err != nil {
		return nil, err
	}
	sources := map[string]keyring.Source{}
	if cfg.keysSecretID != "" {
		sm := secretsmanager.NewFromConfig(awsCfg)
		reader, err := secretver.Open(cfg.keysSecretID, sm, cfg.cacheTTL,
			secretver.WithCoolDown(cfg.coolDown), secretver.WithMaxStaleness(cfg.keysMaxStale))
		if err != nil {
			return nil, err
		}
		sources[cfg.keysIssuer] = keyring.FromSecret(reader, keyring.WithSkippedVersion(obs.skippedVersion(log)))
	}
	if len(cfg.oidc) > 0 {
		client := &http.Client{Timeout: 3 * time.Second}
		for _, o := range cfg.oidc {
			sources[o.Issuer] = keyring.FromJWKS(o.Issuer, o.JWKSURI, client,
				keyring.WithCoolDown(cfg.coolDown), keyring.WithMaxAge(cfg.jwksMaxAge))
		}
	}
	ring, err := keyring.NewRing(obs.keySources(sources, cfg.keysIssuer))
	if err != nil {
		return nil, err
	}
	v, err := token.NewVerifier(ring, cfg.issuers(),
		token.WithClockSkew(cfg.skew), token.WithMaxLifetime(cfg.maxLifetime))
	if err != nil {
		return nil, err
	}
	h := &handler{
		verify: v, cache: token.NewDecisionCache[verdict](v, cfg.decisionCache), rules: cfg.rules, simple: cfg.simple,
		contextClaims: cfg.contextClaims, usageClaim: cfg.usageClaim,
		log: log, now: time.Now, obs: obs,
	}
	if cfg.revocation.Table != "" {
		h.revoked = revocation.NewView(dynamodb.NewFromConfig(awsCfg), cfg.revocation.Table,
			append(cfg.revocation.Options(), revocation.WithOnStaleAnswer(revocation.StaleLogger(log, 10*time.Second)))...)
	}
	return h, nil
}
