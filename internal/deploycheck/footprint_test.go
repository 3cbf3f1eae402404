package deploycheck

import (
	"os"
	"os/exec"
	"path/filepath"
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
// loader (shared-config files, SSO, STS, IMDS clients: about 2 MB; the
// functions build their clients with shared/awsconfig) and the X-Ray SDK
// (5–10 ms of init and 12–19 MiB; see shared/trace).
var heavyPackages = []string{
	"github.com/aws/aws-sdk-go-v2/config",
	"github.com/aws/aws-xray-sdk-go/xray",
}

// TestAuthorizersLinkNoHeavyPackages reads the authorizers' dependency
// graphs for linux/arm64 with the Lambda build tags.
func TestAuthorizersLinkNoHeavyPackages(t *testing.T) {
	targets := makeTargets(t)
	for _, id := range authorizers {
		bt, ok := targets[id]
		if !ok {
			t.Fatalf("no build-%s target in the Makefile", id)
		}
		deps := goList(t, "./"+bt.pkg)
		if problems := heavyDeps(deps); len(problems) > 0 {
			t.Errorf("%s (%s) links %v", id, bt.pkg, problems)
		}
	}
	// The check can fail: the key rotator links X-Ray on purpose.
	if problems := heavyDeps(goList(t, "./functions/key-rotator")); len(problems) == 0 {
		t.Error("heavyDeps found nothing in functions/key-rotator, which links the X-Ray SDK")
	}
}

func heavyDeps(deps []string) []string {
	var found []string
	for _, d := range deps {
		for _, h := range heavyPackages {
			if d == h {
				found = append(found, d)
			}
		}
	}
	return found
}

func goList(t *testing.T, pkg string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-tags", "lambda.norpc", "-deps", pkg)
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
