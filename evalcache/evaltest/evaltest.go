// Package evaltest helps tests that run the real nix on the bundled fixture
// monorepos: offline nix settings, fixture copies nix can evaluate as flakes,
// and a clear failure in CI when a tool is missing.
package evaltest

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/monoflake/monoflake/tools/genrepo"
)

// NixConfig keeps nix offline in tests: flakes enabled, no binary cache
// (otherwise every build first retries the unreachable cache).
const NixConfig = "experimental-features = nix-command flakes\nsubstituters =\n"

// SetNixConfig makes every nix the test starts use NixConfig. Like
// t.Setenv, it cannot be used in parallel tests.
func SetNixConfig(t testing.TB) {
	t.Helper()
	t.Setenv("NIX_CONFIG", os.Getenv("NIX_CONFIG")+"\n"+NixConfig)
}

// RequireTool returns the path of a tool the test needs. A missing tool
// fails the test in CI (CI=true) and skips it elsewhere.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required for this test but is not on PATH (run tools/install-deps)", name)
		}
		t.Skipf("%s is not on PATH", name)
	}
	return path
}

// FixtureDir is the absolute path of testdata/NAME in the repository.
func FixtureDir(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", name)
}

// CopyFixture copies testdata/NAME into a fresh git repository with one
// commit holding every file, so nix evaluates it as a flake without copying
// the whole monoflake repository into the store.
func CopyFixture(t testing.TB, name string) string {
	t.Helper()
	RequireTool(t, "git")
	dst := filepath.Join(t.TempDir(), name)
	src := FixtureDir(name)
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatalf("copy fixture %s: %v", name, err)
	}
	Git(t, dst, "init", "-q")
	Git(t, dst, "add", "-A")
	Git(t, dst, "commit", "-q", "-m", "fixture")
	return dst
}

// Git runs git in dir and fails the test when it fails. Commits carry an
// identity of their own: a new machine's HOME has no git configuration.
func Git(t testing.TB, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.com")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// PrunedFlake rewrites root's flake.nix the way the analysis model does for
// a pruned evaluation: absolute paths, and a module list holding only the
// given modules (paths relative to root, or inline Nix starting with "{").
// It returns the new flake.nix and the absolute paths of the modules kept.
func PrunedFlake(t testing.TB, root string, modules ...string) ([]byte, []string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, "flake.nix"))
	if err != nil {
		t.Fatalf("read flake.nix: %v", err)
	}
	var list, kept []string
	for _, m := range modules {
		if strings.HasPrefix(m, "{") {
			list = append(list, "("+m+")")
			continue
		}
		abs := filepath.Join(root, m)
		list, kept = append(list, abs), append(kept, abs)
	}
	out := regexp.MustCompile(`(?s)imports = \[.*?\];`).ReplaceAllLiteralString(string(src), "imports = [ "+strings.Join(list, " ")+" ];")
	return []byte(strings.ReplaceAll(out, "import ./", "import "+root+"/")), kept
}

// ClosureModules lists the modules a pruned evaluation of a generated
// repository's component needs: the shared set-up module and the modules of
// the component and of its dependencies, transitively.
func ClosureModules(repo *genrepo.Repo, component string) []string {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		c, _ := repo.Component(n)
		for _, d := range c.Dependencies {
			visit(d)
		}
	}
	visit(component)
	modules := []string{"nix/pkgs.nix"}
	for n := range seen {
		modules = append(modules, n+"/nix/outputs.nix")
	}
	sort.Strings(modules[1:])
	return modules
}
