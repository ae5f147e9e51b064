package genrepo

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// reference matches what the generated files use to point at components.
var reference = regexp.MustCompile(`self'\.(?:packages|devShells)\.(c[0-9]+)`)

func TestGenerate(t *testing.T) {
	tests := []struct {
		name string
		opt  Options
		// wantDeps is the most dependencies any component may have.
		wantDeps int
	}{
		{"one component", Options{Components: 1}, 0},
		{"default dependencies", Options{Components: 40, Seed: 3}, DefaultDependencies},
		{"no dependencies", Options{Components: 20, Dependencies: -1}, 0},
		{"single dependency", Options{Components: 30, Dependencies: 1}, 1},
		{"many dependencies", Options{Components: 60, Dependencies: 6, Seed: 9}, 6},
		{"files that are not Nix", Options{Components: 7, NonNixFiles: 1234}, DefaultDependencies},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo, err := Generate(t.TempDir(), tt.opt)
			require.NoError(t, err)
			require.Len(t, repo.Components, tt.opt.Components)
			p := newPlan(tt.opt)

			nix, other := countFiles(t, repo.Root)
			require.Equal(t, nix, repo.NixFiles)
			require.Equal(t, other, repo.NonNixFiles)
			libs, err := readFixtureLibraries("")
			require.NoError(t, err)
			require.Equal(t, 3*tt.opt.Components+1+len(libs)-1, repo.NixFiles, "three files a component, flake.nix and the libraries")
			require.Equal(t, tt.opt.NonNixFiles+1, repo.NonNixFiles, "the extra files and flake.lock")

			flake := readFile(t, repo.Root, "flake.nix")
			require.Contains(t, flake, "./nix/pkgs.nix\n")
			seen := map[string]bool{}
			for i, c := range repo.Components {
				require.False(t, seen[c.Name], "%s is generated twice", c.Name)
				seen[c.Name] = true
				require.LessOrEqual(t, len(c.Dependencies), tt.wantDeps)
				require.True(t, slices.IsSorted(c.Dependencies))
				for _, d := range c.Dependencies {
					require.True(t, seen[d] && d != c.Name, "%s depends on %s, which is not a component before it", c.Name, d)
				}
				plan := p.components[i]
				require.Equal(t, names(p, plan.packageDeps), c.Dependencies)
				require.Equal(t, c.Dependencies, referencedComponents(t, repo.Root, c.Name, "outputs.nix", "package.nix"))
				require.Equal(t, names(p, plan.shellDeps), referencedComponents(t, repo.Root, c.Name, "shell.nix"))
				require.Contains(t, flake, "./"+c.Files()[0]+"\n")
				for _, f := range c.Files() {
					require.FileExists(t, filepath.Join(repo.Root, f))
				}
				outputs := readFile(t, repo.Root, c.Files()[0])
				for _, o := range c.Outputs {
					require.Contains(t, outputs, fmt.Sprintf("%s.%s = ", o, c.Name))
				}
				if i == 1 && tt.wantDeps > 0 {
					require.Len(t, c.Dependencies, 1, "the second component always has exactly one dependency")
				}
			}
			if tt.wantDeps > 0 {
				require.NotEmpty(t, repo.WithDependencies(1))
				require.NotEmpty(t, repo.WithDependencies(0))
			}
		})
	}
}

// TestGenerateIsDeterministic checks that the options alone decide the
// tree, however the writes were scheduled, and that the seed matters.
func TestGenerateIsDeterministic(t *testing.T) {
	opt := Options{Components: 100, NonNixFiles: 300, BlobBytes: 1<<20 + 17, Seed: 42}
	a, err := Generate(t.TempDir(), opt)
	require.NoError(t, err)
	b, err := Generate(t.TempDir(), opt)
	require.NoError(t, err)
	require.Equal(t, hashTree(t, a.Root), hashTree(t, b.Root))
	require.Equal(t, a.Components, b.Components)

	opt.Seed++
	c, err := Generate(t.TempDir(), opt)
	require.NoError(t, err)
	require.NotEqual(t, hashTree(t, a.Root), hashTree(t, c.Root))
}

// TestGenerateKeepsComponentsAcrossSizes checks that growing a repository
// only adds components, so benchmarks at different sizes measure the same
// component.
func TestGenerateKeepsComponentsAcrossSizes(t *testing.T) {
	small, err := Generate(t.TempDir(), Options{Components: 6, Seed: 8})
	require.NoError(t, err)
	big, err := Generate(t.TempDir(), Options{Components: 300, Seed: 8})
	require.NoError(t, err)
	require.Equal(t, small.Components, big.Components[:len(small.Components)])
	for _, c := range small.Components {
		for _, f := range c.Files() {
			require.Equal(t, readFile(t, small.Root, f), readFile(t, big.Root, f), f)
		}
	}
}

func TestGenerateBlob(t *testing.T) {
	const size = 5<<20 + 3
	repo, err := Generate(t.TempDir(), Options{Components: 2, BlobBytes: size})
	require.NoError(t, err)
	require.Equal(t, BlobPath, repo.Blob)
	info, err := os.Stat(filepath.Join(repo.Root, repo.Blob))
	require.NoError(t, err)
	require.EqualValues(t, size, info.Size())
}

// TestGenerateGit checks that everything is committed, in a commit that
// depends on the options alone.
func TestGenerateGit(t *testing.T) {
	requireTool(t, "git")
	opt := Options{Components: 50, NonNixFiles: 100, BlobBytes: 1 << 20, Git: true}
	a, err := Generate(t.TempDir(), opt)
	require.NoError(t, err)
	require.Empty(t, git(t, a.Root, "status", "--porcelain", "--untracked-files=all"))
	tracked := strings.Split(strings.TrimSpace(git(t, a.Root, "ls-files")), "\n")
	require.Len(t, tracked, a.NixFiles+a.NonNixFiles)

	b, err := Generate(t.TempDir(), opt)
	require.NoError(t, err)
	require.Equal(t, git(t, a.Root, "rev-parse", "HEAD"), git(t, b.Root, "rev-parse", "HEAD"))
}

func TestGenerateRefuses(t *testing.T) {
	full := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(full, "keep"), nil, 0o644))
	tests := []struct {
		name string
		dir  string
		opt  Options
		want string
	}{
		{"no components", t.TempDir(), Options{}, "at least one component"},
		{"a folder with files", full, Options{Components: 1}, "is not empty"},
		{"a fixture without libraries", t.TempDir(), Options{Components: 1, Fixture: t.TempDir()}, "Nix libraries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Generate(tt.dir, tt.opt)
			require.ErrorContains(t, err, tt.want)
		})
	}
	require.FileExists(t, filepath.Join(full, "keep"))
}

func TestGenerateStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := GenerateContext(ctx, t.TempDir(), Options{Components: 100, BlobBytes: 100 << 20})
	require.ErrorIs(t, err, context.Canceled)
}

// TestPlanDepthIsBounded checks that no chain of references is longer than
// maxDepth, so the closure of one shell stays small in big repositories.
func TestPlanDepthIsBounded(t *testing.T) {
	p := newPlan(Options{Components: 5000, Dependencies: 5})
	depth := make([]int, len(p.components))
	closure := make([]map[int]bool, len(p.components))
	for i, c := range p.components {
		closure[i] = map[int]bool{}
		for _, d := range c.packageDeps {
			require.Less(t, d, i)
			depth[i] = max(depth[i], depth[d]+1)
			closure[i][d] = true
			for x := range closure[d] {
				closure[i][x] = true
			}
		}
		require.Subset(t, c.packageDeps, c.shellDeps)
		require.LessOrEqual(t, depth[i], maxDepth, "%s", c.name)
		require.LessOrEqual(t, len(closure[i]), 5+25+125, "%s", c.name)
	}
}

func TestPlanNames(t *testing.T) {
	tests := []struct {
		components  int
		first, last string
	}{
		{1, "c0000", "c0000"},
		{10000, "c0000", "c9999"},
		{10001, "c00000", "c10000"},
	}
	for _, tt := range tests {
		p := newPlan(Options{Components: tt.components})
		require.Equal(t, tt.first, p.components[0].name)
		require.Equal(t, tt.last, p.components[tt.components-1].name)
	}
}

// referencedComponents returns the other components that some of a
// component's files reference, in name order.
func referencedComponents(t *testing.T, root, name string, files ...string) []string {
	t.Helper()
	var refs []string
	for _, f := range files {
		for _, m := range reference.FindAllStringSubmatch(readFile(t, root, name+"/nix/"+f), -1) {
			if m[1] != name && !slices.Contains(refs, m[1]) {
				refs = append(refs, m[1])
			}
		}
	}
	slices.Sort(refs)
	return refs
}

func countFiles(t *testing.T, root string) (nix, other int) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case d.IsDir():
		case strings.HasSuffix(path, ".nix"):
			nix++
		default:
			other++
		}
		return nil
	})
	require.NoError(t, err)
	return nix, other
}

// hashTree hashes every path and content below root.
func hashTree(t *testing.T, root string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		fmt.Fprintf(h, "%s\x00%d\x00", rel, len(data))
		h.Write(data)
		return nil
	})
	require.NoError(t, err)
	return fmt.Sprintf("%x", h.Sum(nil))
}

func readFile(t *testing.T, root, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
	require.NoError(t, err)
	return string(data)
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
	return string(out)
}

// requireTool skips the test when a tool is missing, except in CI, where a
// missing tool is a broken machine and fails the test.
func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed; CI needs it (make deps installs it)", name)
		}
		t.Skipf("%s is not installed", name)
	}
}
