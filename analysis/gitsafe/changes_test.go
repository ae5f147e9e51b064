package gitsafe

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// gitLines is what plain git prints, one path per NUL, made absolute.
func gitLines(t *testing.T, dir string, args ...string) []string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	require.NoError(t, err, "git %s", strings.Join(args, " "))
	var paths []string
	for _, p := range strings.Split(string(out), "\x00") {
		if p != "" {
			paths = append(paths, filepath.Join(dir, p))
		}
	}
	return paths
}

// TestChanged compares Changed with what git itself says (diff against the
// revision plus untracked files) after every kind of change.
func TestChanged(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "repo")
	write := func(name, text string) {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	commit := func(msg string) {
		plainGit(t, dir, "add", "-A")
		plainGit(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgSign=false", "commit", "-qm", msg)
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	plainGit(t, dir, "init", "-q")
	for _, f := range []string{"committed.nix", "staged.nix", "modified.nix", "deleted.nix", "touched.nix", "reverted.nix", "mode.sh", "sub/deep.nix"} {
		write(f, "{ }\n")
	}
	write(".gitignore", "ignored.txt\n")
	require.NoError(t, os.Symlink("committed.nix", filepath.Join(dir, "link")))
	commit("base")

	steps := []struct {
		name   string
		change func()
	}{
		{"nothing", func() {}},
		{"committed since", func() { write("committed.nix", "{ a = 1; }\n"); commit("second") }},
		{"staged", func() { write("staged.nix", "{ b = 1; }\n"); plainGit(t, dir, "add", "staged.nix") }},
		// Same size, written right after the index: only the content tells.
		{"modified, racily", func() { write("modified.nix", "{ x }\n") }},
		{"deleted", func() { require.NoError(t, os.Remove(filepath.Join(dir, "deleted.nix"))) }},
		{"touched, same content", func() {
			later := time.Now().Add(time.Hour)
			require.NoError(t, os.Chtimes(filepath.Join(dir, "touched.nix"), later, later))
		}},
		{"changed then reverted", func() { write("reverted.nix", "{ y }\n"); write("reverted.nix", "{ }\n") }},
		{"executable bit", func() { require.NoError(t, os.Chmod(filepath.Join(dir, "mode.sh"), 0o755)) }},
		{"link retargeted", func() {
			require.NoError(t, os.Remove(filepath.Join(dir, "link")))
			require.NoError(t, os.Symlink("staged.nix", filepath.Join(dir, "link")))
		}},
		{"untracked and ignored", func() { write("sub/new.nix", "{ }\n"); write("ignored.txt", "x") }},
	}
	for _, s := range steps {
		s.change()
		got, err := Changed(ctx, filepath.Join(dir, "sub"), "HEAD~0")
		require.NoError(t, err, s.name)
		want := append([]string{}, gitLines(t, dir, "diff", "--name-only", "-z", "--no-renames", "HEAD", "--")...)
		want = append(want, gitLines(t, dir, "ls-files", "-z", "--others", "--exclude-standard")...)
		sort.Strings(want)
		require.Equal(t, want, got, s.name)
	}
	got, err := Changed(ctx, dir, "HEAD~1")
	require.NoError(t, err)
	require.Contains(t, got, filepath.Join(dir, "committed.nix"), "changes since an older revision include its commits")
	require.NotContains(t, got, filepath.Join(dir, "touched.nix"))
	require.NotContains(t, got, filepath.Join(dir, "reverted.nix"))
	require.NotContains(t, got, filepath.Join(dir, "ignored.txt"))

	_, err = Changed(ctx, dir, "no-such-rev")
	require.Error(t, err)
}

// Comparing the working tree never runs the repository's filters, where
// `git diff REV` does.
func TestChangedRunsNoFilter(t *testing.T) {
	requireGit(t)
	repo := hostileRepo(t)
	pwned := filepath.Join(t.TempDir(), "PWNED")
	require.NoError(t, os.WriteFile(filepath.Join(repo, ".gitattributes"), []byte("* filter=evil\n"), 0o644))
	plainGit(t, repo, "config", "filter.evil.clean", "touch "+pwned+"; cat")
	plainGit(t, repo, "diff", "--name-only", "HEAD", "--")
	require.FileExists(t, pwned, "plain git runs the filter")
	require.NoError(t, os.Remove(pwned))

	got, err := Changed(context.Background(), repo, "HEAD")
	require.NoError(t, err)
	require.NoFileExists(t, pwned)
	require.Equal(t, []string{filepath.Join(repo, ".gitattributes"), filepath.Join(repo, "a.txt"), filepath.Join(repo, "new.nix")}, got)
}
