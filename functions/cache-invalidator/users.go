package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// adminGetUser is the one Cognito call the resolver makes.
type adminGetUser interface {
	AdminGetUser(ctx context.Context, in *cip.AdminGetUserInput, opts ...func(*cip.Options)) (*cip.AdminGetUserOutput, error)
}

// cognitoUsers resolves a username or alias to the user's sub with
// AdminGetUser, for the user pools it was given (the template grants
// cognito-idp:AdminGetUser on exactly those). A pool outside that list
// resolves to nothing, so the handler falls back to the username, as it
// does without a resolver.
type cognitoUsers struct {
	client adminGetUser
	pools  map[string]bool
}

func newCognitoUsers(client adminGetUser, pools []string) *cognitoUsers {
	c := &cognitoUsers{client: client, pools: make(map[string]bool, len(pools))}
	for _, p := range pools {
		c.pools[p] = true
	}
	return c
}

// SubOf implements userResolver. The call goes to the pool's own Region
// (the prefix of its id), whatever the function's Region is. A deleted or
// unknown user is an error wrapping errUserNotFound; any other failure is
// returned as is, so the event is retried.
func (c *cognitoUsers) SubOf(ctx context.Context, pool, username string) (string, error) {
	if !c.pools[pool] {
		return "", nil
	}
	region, _, ok := strings.Cut(pool, "_")
	if !ok {
		return "", fmt.Errorf("user pool id %q has no Region prefix", pool)
	}
	out, err := c.client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(pool), Username: aws.String(username)},
		func(o *cip.Options) { o.Region = region })
	var nf *types.UserNotFoundException
	switch {
	case errors.As(err, &nf):
		return "", fmt.Errorf("AdminGetUser in %s: %w", pool, errUserNotFound)
	case err != nil:
		return "", fmt.Errorf("AdminGetUser in %s: %w", pool, err)
	}
	for _, a := range out.UserAttributes {
		if aws.ToString(a.Name) == "sub" && aws.ToString(a.Value) != "" {
			return aws.ToString(a.Value), nil
		}
	}
	return "", fmt.Errorf("AdminGetUser in %s: the user has no sub attribute", pool)
}
