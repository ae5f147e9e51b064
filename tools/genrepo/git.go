package genrepo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// commitDate is the author and committer date of the generated commit: a
// fixed date makes the commit hash a function of the options alone.
const commitDate = "2024-01-01T00:00:00Z"

// gitArgs puts settings in front of a git command that keep the user's and
// the machine's git configuration out of the way: no signing, no hooks, no
// line-ending rewriting, and no compression, which would cost seconds on a
// large blob and buys nothing in a throwaway repository.
func gitArgs(args ...string) []string {
	return append([]string{
		"-c", "init.defaultBranch=main",
		"-c", "commit.gpgSign=false",
		"-c", "core.autocrlf=false",
		"-c", "core.hooksPath=/dev/null",
		"-c", "core.compression=0",
		"-c", "core.looseCompression=0",
		"-c", "gc.auto=0",
	}, args...)
}

// commitAll makes root a git repository with one commit of everything in it.
// One `git add -A` and one commit is far faster on 200,000 files than
// anything per file.
func commitAll(ctx context.Context, root string) error {
	steps := [][]string{
		{"init", "-q"},
		{"add", "-A"},
		{"commit", "-q", "--no-verify", "-m", "Generated monorepo"},
	}
	for _, args := range steps {
		if err := runGit(ctx, root, args...); err != nil {
			return err
		}
	}
	return nil
}

func runGit(ctx context.Context, root string, args ...string) error {
	return run(ctx, root, []string{
		"GIT_AUTHOR_NAME=genrepo", "GIT_AUTHOR_EMAIL=genrepo@example.invalid", "GIT_AUTHOR_DATE=" + commitDate,
		"GIT_COMMITTER_NAME=genrepo", "GIT_COMMITTER_EMAIL=genrepo@example.invalid", "GIT_COMMITTER_DATE=" + commitDate,
		"GIT_CONFIG_NOSYSTEM=1",
	}, "git "+args[0], "git", gitArgs(args...)...)
}

// run runs a tool in dir with more environment variables; what names the
// command in an error. Git and nix start helpers of their own; cancelling
// kills the whole process group.
func run(ctx context.Context, dir string, env []string, what, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s in %s: %w: %s", what, dir, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
