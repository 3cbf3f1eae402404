package deploycheck

import (
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// buildTarget is what `make -n build-<LogicalId>` (the command sam build
// runs for a function with BuildMethod makefile) would do.
type buildTarget struct {
	// pkg is the folder `go build` compiles, e.g. "functions/jwks".
	pkg string
	// output is the -o of go build, relative to ARTIFACTS_DIR.
	output string
	// tags is the -tags of go build ("" if none).
	tags string
	// copies maps each copied file to its path in the artifact.
	copies map[string]string
}

// artifacts stands for sam build's ARTIFACTS_DIR in the dry runs.
const artifacts = "/ARTIFACTS_DIR"

// makeTargets dry-runs every build-* target of the Makefile.
func makeTargets(t *testing.T) map[string]buildTarget {
	t.Helper()
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make is not installed: the Makefile's SAM targets cannot be checked")
	}
	data, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]buildTarget{}
	for _, m := range regexp.MustCompile(`(?m)^build-([A-Za-z0-9]+):`).FindAllStringSubmatch(string(data), -1) {
		id := m[1]
		cmd := exec.Command(mk, "-n", "build-"+id, "ARTIFACTS_DIR="+artifacts)
		cmd.Dir = root
		text, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make -n build-%s: %v\n%s", id, err, text)
		}
		out[id] = parseRecipe(string(text))
	}
	return out
}

// parseRecipe reads the go build and cp commands of a dry run.
func parseRecipe(text string) buildTarget {
	bt := buildTarget{copies: map[string]string{}}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			switch {
			case f[i] == "go" && f[i+1] == "build":
				bt.pkg = strings.TrimPrefix(f[len(f)-1], "./")
				for j := i; j+1 < len(f); j++ {
					switch f[j] {
					case "-o":
						bt.output = strings.TrimPrefix(f[j+1], artifacts+"/")
					case "-tags":
						bt.tags = f[j+1]
					}
				}
			case f[i] == "cp" && i+2 < len(f) && !strings.HasPrefix(f[i+1], "-"):
				bt.copies[f[i+1]] = strings.TrimPrefix(f[i+2], artifacts+"/")
			}
		}
	}
	return bt
}

// repoFacts is what checkBuild needs to know about the working tree.
type repoFacts struct {
	functionDirs []string                 // the folders under functions/
	isMain       func(folder string) bool // folder holds a main package
	exists       func(path string) bool
}

func readRepoFacts(t *testing.T) repoFacts {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	f := repoFacts{
		isMain: func(folder string) bool {
			pkgs, err := parser.ParseDir(token.NewFileSet(), filepath.Join(root, folder), func(fi os.FileInfo) bool {
				return !strings.HasSuffix(fi.Name(), "_test.go")
			}, parser.PackageClauseOnly)
			return err == nil && pkgs["main"] != nil
		},
		exists: func(path string) bool {
			st, err := os.Stat(filepath.Join(root, path))
			return err == nil && !st.IsDir()
		},
	}
	for _, e := range entries {
		if e.IsDir() {
			f.functionDirs = append(f.functionDirs, "functions/"+e.Name())
		}
	}
	return f
}

// checkBuild: every function is built by its build-<LogicalId> target from
// a main package under functions/ or examples/, into bootstrap, with the
// files its environment names; every functions/ folder is deployed; no
// target is left over from a removed function.
func checkBuild(tp tmpl, targets map[string]buildTarget, repo repoFacts) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	built := map[string]bool{}
	functions := tp.ofType("AWS::Serverless::Function")
	for _, id := range functions {
		fp := tp.functionProps(id)
		if bm := obj(tp.resource(id)["Metadata"])["BuildMethod"]; bm != "makefile" {
			bad("%s: Metadata.BuildMethod is %v, want makefile (sam build runs build-%s)", id, bm, id)
		}
		if cu := fp["CodeUri"]; cu != "." {
			bad("%s: CodeUri is %v, want . (the module root: go.mod and shared/)", id, cu)
		}
		bt, ok := targets[id]
		if !ok {
			bad("%s: no build-%s target in the Makefile", id, id)
			continue
		}
		switch {
		case bt.pkg == "":
			bad("build-%s runs no go build", id)
			continue
		case !strings.HasPrefix(bt.pkg, "functions/") && !strings.HasPrefix(bt.pkg, "examples/"):
			bad("build-%s builds %s, not a folder under functions/ or examples/", id, bt.pkg)
		case !repo.isMain(bt.pkg):
			bad("build-%s builds %s, which is not a folder with a main package", id, bt.pkg)
		}
		if bt.output != "bootstrap" {
			bad("build-%s writes %q, want $(ARTIFACTS_DIR)/bootstrap (Handler: bootstrap)", id, bt.output)
		}
		built[bt.pkg] = true
		// A file the function reads by a relative path must be in the
		// artifact at that path: Lambda runs the binary in /var/task.
		vars := obj(obj(fp["Environment"])["Variables"])
		names := make([]string, 0, len(vars))
		for k := range vars {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			path, ok := vars[k].(string)
			if !strings.HasSuffix(k, "_FILE") || !ok || strings.HasPrefix(path, "/") {
				continue
			}
			if !repo.exists(path) {
				bad("%s: %s=%s does not exist in the repository", id, k, path)
			}
			if bt.copies[path] != path {
				bad("%s: %s=%s, but build-%s does not copy it to $(ARTIFACTS_DIR)/%s", id, k, path, id, path)
			}
		}
	}
	for _, dir := range repo.functionDirs {
		if !built[dir] {
			bad("%s is built by no function of template.yaml", dir)
		}
	}
	ids := make([]string, 0, len(targets))
	for id := range targets {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if tp.resource(id) == nil {
			bad("build-%s: template.yaml has no function %s (a stale target)", id, id)
		}
	}
	return problems
}

func TestEveryFunctionIsBuilt(t *testing.T) {
	tp := readTemplate(t)
	targets := makeTargets(t)
	repo := readRepoFacts(t)
	expectNone(t, checkBuild(tp, targets, repo))

	// The template's functions really are the ones the issues name.
	for _, id := range []string{"TokenAuthorizerFunction", "RequestAuthorizerFunction", "ValidatorFunction", "KeyRotatorFunction", "JwksFunction", "CacheInvalidatorFunction", "EchoBackendFunction"} {
		if tp.resource(id)["Type"] != "AWS::Serverless::Function" {
			t.Errorf("template.yaml has no function %s", id)
		}
	}
	if got := targets["ValidatorFunction"]; got.pkg != "functions/validator" || got.copies["functions/validator/testdata/rules.json"] != "functions/validator/testdata/rules.json" {
		t.Errorf("build-ValidatorFunction = %+v, want functions/validator and its rules file", got)
	}

	clone := func() (tmpl, map[string]buildTarget) {
		c := map[string]buildTarget{}
		for k, v := range targets {
			c[k] = v
		}
		return tp.clone(t), c
	}
	t.Run("missing target", func(t *testing.T) {
		c, tg := clone()
		delete(tg, "RequestAuthorizerFunction")
		expectProblem(t, checkBuild(c, tg, repo), "RequestAuthorizerFunction: no build-RequestAuthorizerFunction target")
		expectProblem(t, checkBuild(c, tg, repo), "functions/request-authorizer is built by no function")
	})
	t.Run("target builds a missing folder", func(t *testing.T) {
		c, tg := clone()
		tg["JwksFunction"] = buildTarget{pkg: "functions/nope", output: "bootstrap"}
		expectProblem(t, checkBuild(c, tg, repo), "build-JwksFunction builds functions/nope, which is not a folder with a main package")
	})
	t.Run("function folder not deployed", func(t *testing.T) {
		c, tg := clone()
		delete(c.resources(), "ValidatorFunction")
		expectProblem(t, checkBuild(c, tg, repo), "functions/validator is built by no function")
		expectProblem(t, checkBuild(c, tg, repo), "build-ValidatorFunction: template.yaml has no function ValidatorFunction")
	})
	t.Run("rules file not packaged", func(t *testing.T) {
		c, tg := clone()
		v := tg["ValidatorFunction"]
		v.copies = map[string]string{}
		tg["ValidatorFunction"] = v
		expectProblem(t, checkBuild(c, tg, repo), "does not copy it to $(ARTIFACTS_DIR)/functions/validator/testdata/rules.json")
	})
	t.Run("wrong build method", func(t *testing.T) {
		c, tg := clone()
		obj(c.resource("EchoBackendFunction")["Metadata"])["BuildMethod"] = "go1.x"
		expectProblem(t, checkBuild(c, tg, repo), "EchoBackendFunction: Metadata.BuildMethod is go1.x")
	})
}

func TestParseRecipe(t *testing.T) {
	bt := parseRecipe("GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -trimpath -o /ARTIFACTS_DIR/bootstrap ./functions/validator\n" +
		"mkdir -p /ARTIFACTS_DIR/functions/validator/testdata/\ncp functions/validator/testdata/rules.json /ARTIFACTS_DIR/functions/validator/testdata/rules.json\n")
	if bt.pkg != "functions/validator" || bt.output != "bootstrap" || bt.copies["functions/validator/testdata/rules.json"] != "functions/validator/testdata/rules.json" {
		t.Errorf("parseRecipe = %+v", bt)
	}
}

// TestRootBinariesIgnored: `go build ./functions/x` at the repository root
// writes a binary x there, and `git add -A` would commit it; .gitignore
// must list every main package folder's name.
func TestRootBinariesIgnored(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	ignored := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		ignored[strings.TrimSpace(line)] = true
	}
	facts := readRepoFacts(t)
	for _, parent := range []string{"functions", "cmd", "examples"} {
		entries, err := os.ReadDir(filepath.Join(root, parent))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() && facts.isMain(parent+"/"+e.Name()) && !ignored["/"+e.Name()] {
				t.Errorf(".gitignore has no /%s: `go build ./%s/%s` at the root would leave a binary git sees", e.Name(), parent, e.Name())
			}
		}
	}
}
