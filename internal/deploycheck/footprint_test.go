package deploycheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// maxAuthorizerSize is issue 10's budget for an authorizer's bootstrap
// (linux/arm64, as template.yaml deploys it), in bytes (MB = 10⁶ bytes).
// Every byte is paged in on each cold start, and the authorizers cold-start
// together when traffic surges.
const maxAuthorizerSize = 10_000_000

// authorizers are the template's Lambda authorizer functions.
var authorizers = []string{"TokenAuthorizerFunction", "RequestAuthorizerFunction"}

// heavyPackages must not be linked into an authorizer: the SDK's config
// loader and what it brings (shared-config files, the SSO, SSO-OIDC and STS
// clients, IMDS: about 2 MB; the functions build their clients with
// shared/awsconfig) and the X-Ray SDK (5–10 ms of init and 12–19 MiB; see
// shared/trace).
var heavyPackages = []string{
	"github.com/aws/aws-sdk-go-v2/config",
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds",
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds",
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds",
	"github.com/aws/aws-sdk-go-v2/service/sso",
	"github.com/aws/aws-sdk-go-v2/service/ssooidc",
	"github.com/aws/aws-sdk-go-v2/service/sts",
	"github.com/aws/aws-xray-sdk-go/xray",
}

// TestAuthorizersLinkNoHeavyPackages reads the authorizers' dependency
// graphs for linux/arm64 with the build tags of their Makefile targets.
func TestAuthorizersLinkNoHeavyPackages(t *testing.T) {
	targets := makeTargets(t)
	for _, id := range authorizers {
		bt, ok := targets[id]
		if !ok {
			t.Fatalf("no build-%s target in the Makefile", id)
		}
		if bt.tags != "lambda.norpc" {
			t.Errorf("build-%s builds with -tags %q, want lambda.norpc (no net/rpc, html/template)", id, bt.tags)
		}
		if problems := heavyDeps(goList(t, bt.tags, "./"+bt.pkg)); len(problems) > 0 {
			t.Errorf("%s (%s) links %v", id, bt.pkg, problems)
		}
	}
	// The check can fail: on the key rotator, which links X-Ray on purpose,
	// and on a graph with the config loader.
	if problems := heavyDeps(goList(t, "lambda.norpc", "./functions/key-rotator")); len(problems) == 0 {
		t.Error("heavyDeps found nothing in functions/key-rotator, which links the X-Ray SDK")
	}
	if got := heavyDeps([]string{"fmt", "github.com/aws/aws-sdk-go-v2/config", "github.com/aws/aws-sdk-go-v2/service/sts"}); len(got) != 2 {
		t.Errorf("heavyDeps found %v in a graph with config and sts", got)
	}
}

func heavyDeps(deps []string) []string {
	var found []string
	for _, d := range deps {
		if slices.Contains(heavyPackages, d) {
			found = append(found, d)
		}
	}
	return found
}

func goList(t *testing.T, tags, pkg string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-tags", tags, "-deps", pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// TestAuthorizerBinarySize builds each authorizer exactly as sam build does
// (make build-<LogicalId> ARTIFACTS_DIR=…) and checks the bootstrap's size.
func TestAuthorizerBinarySize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the authorizers for linux/arm64")
	}
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make is not installed")
	}
	for _, id := range authorizers {
		dir := t.TempDir()
		cmd := exec.Command(mk, "--no-print-directory", "build-"+id, "ARTIFACTS_DIR="+dir)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make build-%s: %v\n%s", id, err, out)
		}
		fi, err := os.Stat(filepath.Join(dir, "bootstrap"))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %.2f MB", id, float64(fi.Size())/1e6)
		if fi.Size() > maxAuthorizerSize {
			t.Errorf("%s bootstrap is %d bytes; the budget is %d", id, fi.Size(), maxAuthorizerSize)
		}
	}
}
