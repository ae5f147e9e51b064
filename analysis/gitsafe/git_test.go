package gitsafe

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func requireGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("git is required for this test but is not on PATH (run tools/install-deps)")
		}
		t.Skip("git is not on PATH")
	}
}

// plainGit runs git the way the project did before this package: with the
// repository's configuration in force.
func plainGit(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	_ = cmd.Run() // some commands fail once their hook or filter ran
}

// hostileRepo is a committed repository with a modified, a touched and an
// untracked file, so that every command has something to compare.
func hostileRepo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("a.txt", "hello\n")
	write("b.nix", "{ }\n")
	plainGit(t, dir, "init", "-q")
	plainGit(t, dir, "add", "-A")
	plainGit(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgSign=false", "commit", "-qm", "init")
	write("a.txt", "hello again\n")
	write("new.nix", "{ }\n")
	later := time.Now().Add(2 * time.Second)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "b.nix"), later, later))
	return dir
}

func script(t *testing.T, path, body string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755))
}

// TestRepositoryCodeNeverRuns: for every setting by which a repository
// makes git run a command, and every command the project runs, plain git
// runs the repository's code (proving the setting is live) and git through
// this package does not.
func TestRepositoryCodeNeverRuns(t *testing.T) {
	requireGit(t)
	type setup func(t *testing.T, repo, pwned string)
	config := func(kv ...string) setup {
		return func(t *testing.T, repo, pwned string) {
			for i := 0; i < len(kv); i += 2 {
				plainGit(t, repo, "config", kv[i], strings.ReplaceAll(kv[i+1], "PWNED", pwned))
			}
		}
	}
	attributes := func(line string, next setup) setup {
		return func(t *testing.T, repo, pwned string) {
			require.NoError(t, os.WriteFile(filepath.Join(repo, ".gitattributes"), []byte(line+"\n"), 0o644))
			next(t, repo, pwned)
		}
	}
	hook := func(name string) setup {
		return func(t *testing.T, repo, pwned string) {
			script(t, filepath.Join(repo, ".git", "hooks", name), "touch "+pwned)
		}
	}
	settings := []struct {
		name     string
		setup    setup
		commands [][]string // each must run the code with plain git
	}{
		{"core.fsmonitor", config("core.fsmonitor", "touch PWNED; echo"), [][]string{
			{"ls-files", "-z", "--cached", "--others", "--exclude-standard"},
			{"status", "--porcelain"},
			{"diff", "--name-only", "HEAD", "--"},
			{"check-ignore", "-q", "a.txt"},
			{"add", "-A"},
		}},
		{"core.fsmonitor through an include", func(t *testing.T, repo, pwned string) {
			inc := filepath.Join(filepath.Dir(repo), "included.cfg")
			require.NoError(t, os.WriteFile(inc, []byte("[core]\n\tfsmonitor = touch "+pwned+"; echo\n"), 0o644))
			plainGit(t, repo, "config", "include.path", inc)
		}, [][]string{{"ls-files", "-z"}}},
		{"post-index-change hook", hook("post-index-change"), [][]string{
			{"status", "--porcelain"},
			{"add", "-A"},
		}},
		{"core.hooksPath", func(t *testing.T, repo, pwned string) {
			script(t, filepath.Join(repo, "hooks", "post-index-change"), "touch "+pwned)
			plainGit(t, repo, "config", "core.hooksPath", "hooks")
		}, [][]string{{"status", "--porcelain"}}},
		{"pre-commit hook", hook("pre-commit"), [][]string{
			{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "x"},
		}},
		{"clean filter", attributes("* filter=evil", config("filter.evil.clean", "touch PWNED; cat")), [][]string{
			{"status", "--porcelain"},
			{"diff", "--name-only", "HEAD", "--"},
			{"add", "-A"},
		}},
		{"required clean filter", attributes("* filter=evil", config("filter.evil.clean", "touch PWNED; cat", "filter.evil.required", "true")), [][]string{
			{"add", "-A"},
		}},
		{"process filter", attributes("* filter=evil", config("filter.evil.process", "touch PWNED")), [][]string{
			{"status", "--porcelain"},
			{"add", "-A"},
		}},
		{"filter named with dots", attributes("* filter=a.b", config("filter.a.b.clean", "touch PWNED; cat")), [][]string{
			{"status", "--porcelain"},
		}},
		{"textconv", attributes("* diff=evil", config("diff.evil.textconv", "touch PWNED; cat")), [][]string{
			{"diff", "HEAD"},
		}},
		{"diff driver command", attributes("* diff=evil", config("diff.evil.command", "touch PWNED; true")), [][]string{
			{"diff", "HEAD"},
		}},
		{"diff.external", config("diff.external", "touch PWNED; true"), [][]string{{"diff", "HEAD"}}},
		{"gpg.program", func(t *testing.T, repo, pwned string) {
			gpg := filepath.Join(filepath.Dir(repo), "gpg.sh")
			script(t, gpg, "touch "+pwned+"; exit 1")
			plainGit(t, repo, "config", "commit.gpgSign", "true")
			plainGit(t, repo, "config", "gpg.program", gpg)
		}, [][]string{
			{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "x"},
		}},
	}
	ctx := context.Background()
	for _, s := range settings {
		for _, args := range s.commands {
			t.Run(s.name+"/"+strings.Join(args, " "), func(t *testing.T) {
				pwned := filepath.Join(t.TempDir(), "PWNED")
				repo := hostileRepo(t)
				s.setup(t, repo, pwned)
				plainGit(t, repo, args...)
				require.FileExists(t, pwned, "plain git runs the repository's code, so the case is live")

				require.NoError(t, os.Remove(pwned))
				repo = hostileRepo(t)
				s.setup(t, repo, pwned)
				_, _ = Output(ctx, repo, args...)
				require.NoFileExists(t, pwned)
			})
		}
	}
}

// The settings leave the commands working: the answers are git's.
func TestCommandsStillAnswer(t *testing.T) {
	requireGit(t)
	repo := hostileRepo(t)
	plainGit(t, repo, "config", "core.fsmonitor", "false; echo")
	ctx := context.Background()

	out, err := Output(ctx, repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.nix")
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"b.nix", "new.nix"}, strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00"))

	out, err = Output(ctx, repo, "status", "--porcelain")
	require.NoError(t, err)
	require.Equal(t, " M a.txt\n?? new.nix\n", string(out))

	out, err = Output(ctx, repo, "diff", "--name-only", "HEAD", "--")
	require.NoError(t, err)
	require.Equal(t, "a.txt\n", string(out))

	_, err = Output(ctx, repo, "rev-parse", "--verify", "-q", "no-such-rev")
	require.Error(t, err)
	require.Contains(t, err.Error(), "git rev-parse in "+repo)

	_, err = Output(ctx, t.TempDir(), "rev-parse", "--show-toplevel")
	require.ErrorContains(t, err, "not a git repository", "git's own complaint ends the error")
}

// A hook that monoflake runs from (pre-commit, say) exports GIT_DIR and
// GIT_INDEX_FILE; they must not send a query about one repository to
// another.
func TestInheritedRepositoryIsIgnored(t *testing.T) {
	requireGit(t)
	repo, other := hostileRepo(t), hostileRepo(t)
	t.Setenv("GIT_DIR", filepath.Join(other, ".git"))
	t.Setenv("GIT_WORK_TREE", other)
	out, err := Output(context.Background(), repo, "rev-parse", "--show-toplevel")
	require.NoError(t, err)
	require.Equal(t, repo, strings.TrimSpace(string(out)))
}

// Cancelling kills git and whatever it started.
func TestCancelKillsTheGroup(t *testing.T) {
	bin := t.TempDir()
	pidFile := filepath.Join(bin, "child.pid")
	script(t, filepath.Join(bin, "git"), fmt.Sprintf("sleep 300 & echo $! > %s; wait", pidFile))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Output(ctx, t.TempDir(), "rev-parse", "--show-toplevel")
		done <- err
	}()
	require.Eventually(t, func() bool { _, err := os.Stat(pidFile); return err == nil }, 10*time.Second, 10*time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("git was not stopped")
	}
	pid, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return processGone(strings.TrimSpace(string(pid))) }, 5*time.Second, 10*time.Millisecond, "the grandchild goes with git's process group")
}

func TestWithFlags(t *testing.T) {
	tests := []struct{ args, want []string }{
		{[]string{"diff", "--name-only", "HEAD"}, []string{"diff", "--no-ext-diff", "--no-textconv", "--name-only", "HEAD"}},
		{[]string{"-C", "x", "log", "-1"}, []string{"-C", "x", "log", "--no-ext-diff", "--no-textconv", "-1"}},
		{[]string{"-c", "a.b=diff", "status"}, []string{"-c", "a.b=diff", "status"}},
		{[]string{"--version"}, []string{"--version"}},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, withFlags(tt.args), "%q", tt.args)
	}
}

// processGone reports whether a process has ended: no longer in /proc, or
// a zombie nobody reaped yet (the machine's init may not reap at once).
func processGone(pid string) bool {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses.
	i := strings.LastIndexByte(string(stat), ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

func TestComplaint(t *testing.T) {
	for _, tc := range []struct{ stderr, want string }{
		{"fatal: not a git repository (or any of the parent directories): .git\n", "not a git repository (or any of the parent directories): .git"},
		{"The following paths are ignored by one of your .gitignore files:\nignored.nix\nhint: Use -f if you really want to add them.\nhint: \"git config advice.addIgnoredFile false\"\n", "The following paths are ignored by one of your .gitignore files:"},
		{"warning: something\nerror: pathspec 'x' did not match any file(s) known to git\n", "pathspec 'x' did not match any file(s) known to git"},
		{"", ""},
	} {
		require.Equal(t, tc.want, complaint([]byte(tc.stderr)), tc.stderr)
	}
}
