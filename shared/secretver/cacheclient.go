package secretver

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-secretsmanager-caching-go/v2/secretcache"
)

// BoundedClient returns api with every DescribeSecret and GetSecretValue call
// bounded by timeout (retries included); d <= 0 means [DefaultReadTimeout].
// Give it to the caching client that serves a [Reader]: the caching client
// calls Secrets Manager on the request path whenever its TTL has expired, and
// while Secrets Manager hangs each such call would otherwise hold the request
// for the SDK's whole retry budget (three 3-second attempts plus backoff)
// before the stale value is served. The bound costs nothing on cache hits.
func BoundedClient(api secretcache.SecretsManagerAPIClient, timeout time.Duration) secretcache.SecretsManagerAPIClient {
	if timeout <= 0 {
		timeout = DefaultReadTimeout
	}
	return boundedClient{SecretsManagerAPIClient: api, timeout: timeout}
}

type boundedClient struct {
	secretcache.SecretsManagerAPIClient
	timeout time.Duration
}

func (c boundedClient) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.SecretsManagerAPIClient.DescribeSecret(ctx, in, opts...)
}

func (c boundedClient) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.SecretsManagerAPIClient.GetSecretValue(ctx, in, opts...)
}

// Client is what [Open] needs of the Secrets Manager client: the caching
// client's calls and the Reader's direct reads. *secretsmanager.Client
// implements it.
type Client interface {
	secretcache.SecretsManagerAPIClient
	API
}

// Open builds the Reader the functions use: a caching client
// (aws-secretsmanager-caching-go) over sm with every call bounded by
// [DefaultReadTimeout] and items kept for cacheTTL, and direct reads through
// sm. The forced-refresh TTL is cacheTTL too; opts may change it and the
// other defaults. It makes no network call.
func Open(secretID string, sm Client, cacheTTL time.Duration, opts ...Option) (*Reader, error) {
	cache, err := secretcache.New(func(c *secretcache.Cache) {
		c.Client = BoundedClient(sm, DefaultReadTimeout)
		c.CacheItemTTL = cacheTTL.Nanoseconds()
	})
	if err != nil {
		return nil, fmt.Errorf("secret %q: caching client: %w", secretID, err)
	}
	return New(secretID, cache, sm, append([]Option{WithForcedTTL(cacheTTL)}, opts...)...), nil
}
