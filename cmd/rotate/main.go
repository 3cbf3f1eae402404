// Command rotate runs one full rotation of the running local stack's
// signing-key secret, playing Secrets Manager's part (moto cannot invoke a
// Lambda function): it starts the rotation with RotateSecret and a fresh
// ClientRequestToken, then invokes the real key-rotator function four
// times (createSecret, setSecret, testSecret, finishSecret) with the events
// the service sends. See internal/rotatedriver for how it copes with moto.
//
// If the stack file (.local/stack.json) lists a KeyRotatorFunction invoke
// URL, the steps go there; otherwise rotate starts build/key-rotator/bootstrap
// under the Lambda emulator itself, pointed at the stack's moto.
//
// Usage: go run ./cmd/rotate [-secret name] [-key-type ES256] [-v]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/rie"
	"github.com/apigw-guard/guard/internal/rotatedriver"
	"github.com/apigw-guard/guard/internal/stackfile"
	"github.com/apigw-guard/guard/shared/signer"
)

func main() {
	data := flag.String("data", ".local", "the local stack's data folder")
	secret := flag.String("secret", demo.SecretName, "the secret to rotate")
	binary := flag.String("binary", "build/key-rotator/bootstrap", "the key-rotator binary, when the stack does not run one")
	keyType := flag.String("key-type", demo.Alg, "KEY_TYPE of a key-rotator started here")
	rsaBits := flag.String("rsa-bits", "", "RSA_BITS of a key-rotator started here (RS256, PS256)")
	functionARN := flag.String("function-arn", rotatedriver.DefaultFunctionARN, "the rotation function ARN recorded by RotateSecret")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	verbose := flag.Bool("v", false, "show the emulator's and the function's log")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, options{
		data: *data, secret: *secret, binary: *binary, keyType: *keyType, rsaBits: *rsaBits,
		functionARN: *functionARN, verbose: *verbose,
	}); err != nil {
		fmt.Fprintln(os.Stderr, "rotate:", err)
		os.Exit(1)
	}
}

type options struct {
	data, secret, binary, keyType, rsaBits, functionARN string
	verbose                                             bool
}

func run(ctx context.Context, o options) error {
	st, err := stackfile.Read(o.data)
	if err != nil {
		return err
	}
	if st.Moto == "" {
		return fmt.Errorf("the stack file in %s names no Secrets Manager endpoint", o.data)
	}
	sm := demo.LocalSecrets(st.Moto)

	var invoke rotatedriver.Invoker
	if url := st.Functions[stackfile.LogicalID("key-rotator")]; url != "" {
		fmt.Fprintf(os.Stderr, "invoking the stack's KeyRotatorFunction at %s\n", url)
		invoke = rotatedriver.URL(url, &http.Client{Timeout: time.Minute})
	} else {
		bin, err := filepath.Abs(o.binary)
		if err != nil {
			return err
		}
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("the stack runs no KeyRotatorFunction and %s is missing (make build): %w", o.binary, err)
		}
		env := map[string]string{
			"AWS_ENDPOINT_URL_SECRETS_MANAGER": st.Moto,
			"KEY_TYPE":                         o.keyType,
			"KEYS_ISSUER":                      demo.Issuer,
			"AUDIENCES":                        demo.Audience,
		}
		if o.rsaBits != "" {
			env["RSA_BITS"] = o.rsaBits
		}
		var log io.Writer = io.Discard
		if o.verbose {
			log = os.Stderr
		}
		fmt.Fprintf(os.Stderr, "starting %s under the Lambda emulator\n", o.binary)
		f, err := rie.Start(ctx, rie.Config{Name: "key-rotator", Binary: bin, Env: env, Timeout: 30 * time.Second, Log: log})
		if err != nil {
			return err
		}
		defer f.Stop()
		invoke = rotatedriver.RIE(f)
	}

	d := &rotatedriver.Driver{SM: sm, Invoke: invoke, FunctionARN: o.functionARN, Log: os.Stderr}
	res, err := d.Rotate(ctx, o.secret)
	if err != nil {
		return err
	}
	verb := "rotated"
	if res.Resumed {
		verb = "finished the interrupted rotation of"
	}
	fmt.Printf("%s %s\n  AWSCURRENT  version %s, kid %s\n", verb, o.secret, res.Token, kidOf(ctx, sm, o.secret, res.Token))
	if res.Previous == "" {
		fmt.Println("  AWSPREVIOUS none (the version before held no key material)")
	} else {
		fmt.Printf("  AWSPREVIOUS version %s, kid %s\n", res.Previous, kidOf(ctx, sm, o.secret, res.Previous))
	}
	if o.secret == demo.SecretName && res.Previous != "" {
		// The local stack seeds the secret from the data folder on start:
		// keep the rotated keys there, or a restart would bring back the
		// old ones.
		if err := demo.SaveKeys(ctx, sm, o.data); err != nil {
			return fmt.Errorf("keep the rotated keys in %s: %w", o.data, err)
		}
		fmt.Printf("  kept in %s for the next start\n", o.data)
	}
	return nil
}

// kidOf returns the signing key ID a version holds (public information),
// or a note saying why there is none.
func kidOf(ctx context.Context, sm *secretsmanager.Client, secret, version string) string {
	if version == "" {
		return "-"
	}
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secret), VersionId: aws.String(version)})
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	s, err := signer.New([]byte(aws.ToString(out.SecretString)))
	if err != nil {
		return "(not a signing key)"
	}
	return s.KeyID()
}
