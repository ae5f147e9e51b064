package gitsafe

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// HasCommit reads HEAD from the files where it can and asks git where it
// cannot; either way it answers what git answers, which is the oracle of
// every case here.
func TestHasCommit(t *testing.T) {
	requireGit(t)
	commit := func(t *testing.T, dir string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644))
		plainGit(t, dir, "add", "f")
		plainGit(t, dir, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", "commit", "-qm", "x")
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the folder asked about
		want  bool
		read  bool // answered from the files, without git
	}{
		{"no repository", func(t *testing.T, dir string) string { return dir }, false, false},
		{"an unborn branch", func(t *testing.T, dir string) string {
			plainGit(t, dir, "init", "-q")
			return dir
		}, false, true},
		{"a branch with a commit", func(t *testing.T, dir string) string {
			plainGit(t, dir, "init", "-q")
			commit(t, dir)
			return dir
		}, true, true},
		{"a folder inside the work tree", func(t *testing.T, dir string) string {
			plainGit(t, dir, "init", "-q")
			commit(t, dir)
			sub := filepath.Join(dir, "a", "b")
			require.NoError(t, os.MkdirAll(sub, 0o755))
			return sub
		}, true, true},
		{"a packed branch", func(t *testing.T, dir string) string {
			plainGit(t, dir, "init", "-q")
			commit(t, dir)
			plainGit(t, dir, "pack-refs", "--all")
			return dir
		}, true, true},
		{"a detached HEAD", func(t *testing.T, dir string) string {
			plainGit(t, dir, "init", "-q")
			commit(t, dir)
			plainGit(t, dir, "checkout", "-q", "--detach")
			return dir
		}, true, true},
		{"a linked work tree", func(t *testing.T, dir string) string {
			main := filepath.Join(dir, "main")
			require.NoError(t, os.Mkdir(main, 0o755))
			plainGit(t, main, "init", "-q")
			commit(t, main)
			linked := filepath.Join(dir, "linked")
			plainGit(t, main, "worktree", "add", "-q", linked)
			return linked
		}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			dir := tc.setup(t, base)
			oracle := exec.Command("git", "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
			oracle.Dir = dir
			oracle.Env = append(os.Environ(), "GIT_CEILING_DIRECTORIES="+filepath.Dir(base))
			require.Equal(t, tc.want, oracle.Run() == nil, "what git says")
			require.Equal(t, tc.want, HasCommit(context.Background(), dir))
			has, sure := headNamesCommit(dir)
			require.Equal(t, tc.read, sure)
			if sure {
				require.Equal(t, tc.want, has)
			}
		})
	}
}
