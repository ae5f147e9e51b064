package lsp

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/evalcache/evaltest"
)

// actionsAt asks for the code actions on the line of needle in path.
func actionsAt(t *testing.T, c *testClient, path, needle string, only ...protocol.CodeActionKind) []codeAction {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	at := strings.Index(string(data), needle)
	require.GreaterOrEqual(t, at, 0, needle)
	pos := lspPosition(string(data), at)
	var got []codeAction
	c.mustCall("textDocument/codeAction", protocol.CodeActionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: pathToURI(path)},
		Range:        protocol.Range{Start: pos, End: pos},
		Context:      protocol.CodeActionContext{Only: only},
	}, &got)
	return got
}

func titles(actions []codeAction) []string {
	var out []string
	for _, a := range actions {
		out = append(out, a.Title)
	}
	return out
}

// The only filter of a request keeps the quick fixes for quickfix and
// nothing else.
func TestCodeActionOnly(t *testing.T) {
	c, _, _, frontend := monorepoSession(t)
	data, err := os.ReadFile(frontend)
	require.NoError(t, err)
	typo := strings.Replace(string(data), "self'.packages.backend}", "self'.packages.backedn}", 1)
	require.NotEqual(t, string(data), typo)
	require.NoError(t, os.WriteFile(frontend, []byte(typo), 0o644))
	c.open(frontend)
	cases := []struct {
		only []protocol.CodeActionKind
		want []string
	}{
		{nil, []string{"Change backedn to backend"}},
		{[]protocol.CodeActionKind{"quickfix"}, []string{"Change backedn to backend"}},
		{[]protocol.CodeActionKind{"refactor", "quickfix"}, []string{"Change backedn to backend"}},
		{[]protocol.CodeActionKind{"refactor"}, nil},
		{[]protocol.CodeActionKind{"source.organizeImports"}, nil},
		{[]protocol.CodeActionKind{"quickfix.other"}, nil},
	}
	for _, tc := range cases {
		got := actionsAt(t, c, frontend, "backedn", tc.only...)
		require.Equal(t, tc.want, titles(got), "only %v", tc.only)
		for _, a := range got {
			require.True(t, a.IsPreferred, "the close match is the preferred fix")
		}
	}
	require.NoError(t, c.shutdown())
}

// A client that cannot create files is not offered an action that
// creates one.
func TestCreateNeedsResourceOperations(t *testing.T) {
	root := copyTree(t, filepath.Join("..", "testdata", "monorepo"))
	flake := filepath.Join(root, "flake.nix")
	data, err := os.ReadFile(flake)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(flake, []byte(strings.Replace(string(data), "./infra/nix/outputs.nix", "./infra/nix/outputs.nix ./ops/nix/outputs.nix", 1)), 0o644))
	const title = "Create ops/nix/outputs.nix from a module template"

	c := newTestClient(t, Options{})
	c.initialize(nil, root)
	require.Equal(t, []string{title}, titles(actionsAt(t, c, flake, "./ops/nix")))
	require.NoError(t, c.shutdown())

	raw := newRawClient(t, Options{})
	raw.request(1, "initialize", map[string]any{"rootUri": pathToURI(root), "capabilities": map[string]any{}})
	raw.response(1)
	raw.send(`{"jsonrpc":"2.0","method":"initialized","params":{}}`)
	line := strings.Count(string(data[:strings.Index(string(data), "./infra/nix")]), "\n")
	raw.request(2, "textDocument/codeAction", map[string]any{
		"textDocument": map[string]any{"uri": pathToURI(flake)},
		"range":        map[string]any{"start": map[string]any{"line": line, "character": 0}, "end": map[string]any{"line": line, "character": 0}},
		"context":      map[string]any{"diagnostics": []any{}},
	})
	m := raw.response(2)
	require.Equal(t, 0, errorCode(m))
	require.Equal(t, []any{}, m["result"])
}

// gitRepo makes a git repository holding a committed flake.nix.
func gitRepo(t *testing.T) string {
	t.Helper()
	evaltest.RequireTool(t, "git")
	dir, err := filepath.EvalSymlinks(t.TempDir())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "flake.nix"), []byte("{ outputs = _: { }; }\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("ignored.nix\n"), 0o644))
	evaltest.Git(t, dir, "init", "-q")
	evaltest.Git(t, dir, "add", "flake.nix", ".gitignore")
	evaltest.Git(t, dir, "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "flake")
	return dir
}

func tracked(t *testing.T, dir, file string) bool {
	t.Helper()
	out, err := exec.Command("git", "-C", dir, "ls-files", "--", file).Output()
	require.NoError(t, err)
	return strings.TrimSpace(string(out)) == file
}

// The fix of untracked-path: monoflake.gitAdd adds the file to git's
// index, and says in one sentence why it cannot when git refuses.
func TestGitAddCommand(t *testing.T) {
	dir := gitRepo(t)
	outside, err := filepath.EvalSymlinks(t.TempDir())
	require.NoError(t, err)
	for _, f := range []string{filepath.Join(dir, "extra.nix"), filepath.Join(dir, "ignored.nix"), filepath.Join(outside, "loose.nix")} {
		require.NoError(t, os.WriteFile(f, []byte("{ }\n"), 0o644))
	}
	c := newTestClient(t, Options{})
	c.initialize(nil, dir)
	add := func(path string) error {
		return c.call("workspace/executeCommand", protocol.ExecuteCommandParams{Command: CommandGitAdd, Arguments: []any{string(pathToURI(path))}}, nil)
	}

	require.False(t, tracked(t, dir, "extra.nix"))
	require.NoError(t, add(filepath.Join(dir, "extra.nix")))
	require.True(t, tracked(t, dir, "extra.nix"))

	for _, tc := range []struct{ path, says string }{
		{filepath.Join(dir, "ignored.nix"), "ignored"},
		{filepath.Join(outside, "loose.nix"), "not a git repository"},
	} {
		err := add(tc.path)
		require.Error(t, err, tc.path)
		require.Equal(t, codeRequestFailed, rpcCode(t, err))
		require.Contains(t, err.Error(), "could not add "+tc.path+" to git: ")
		require.Contains(t, err.Error(), tc.says)
		require.NotContains(t, err.Error(), "\n", "one sentence")
	}
	require.False(t, tracked(t, dir, "ignored.nix"))
	require.NoError(t, c.shutdown())
}

// A git that hangs is killed with everything it started when the client
// cancels the command.
func TestGitAddCancelled(t *testing.T) {
	dir := gitRepo(t)
	git, err := exec.LookPath("git")
	require.NoError(t, err)
	bin := t.TempDir()
	pids := filepath.Join(bin, "pids")
	// Only git add hangs: indexing runs git too.
	script := "#!/bin/sh\ncase \" $* \" in *\" add \"*) ;; *) exec " + git + " \"$@\" ;; esac\n" +
		"sleep 300 &\necho $$ $! > " + pids + "\nwait\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "git"), []byte(script), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	c := newRawClient(t, Options{})
	c.request(1, "initialize", map[string]any{"rootUri": pathToURI(dir), "capabilities": map[string]any{}})
	c.response(1)
	c.request(2, "workspace/executeCommand", map[string]any{"command": CommandGitAdd, "arguments": []string{string(pathToURI(filepath.Join(dir, "flake.nix")))}})
	var started []int
	require.Eventually(t, func() bool {
		data, err := os.ReadFile(pids)
		if err != nil {
			return false
		}
		started = nil
		for _, f := range strings.Fields(string(data)) {
			pid, err := strconv.Atoi(f)
			require.NoError(t, err)
			started = append(started, pid)
		}
		return len(started) == 2
	}, testTimeout, 10*time.Millisecond)
	c.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":2}}`)
	require.Equal(t, -32800, errorCode(c.response(2)))
	for _, pid := range started {
		require.Eventually(t, func() bool { return !alive(pid) }, testTimeout, 10*time.Millisecond, "process %d outlived the cancellation", pid)
	}
}

// alive reports whether a process runs; a zombie, killed but not yet
// reaped by whoever inherited it, does not.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) == 0 || fields[0] != "Z"
}

// The quick fix of untracked-path, end to end: the server offers git add
// for a file flake evaluation cannot see, runs it, and indexes the
// repository again, so the diagnostic goes.
func TestUntrackedPathQuickFix(t *testing.T) {
	dir := gitRepo(t)
	flake := filepath.Join(dir, "flake.nix")
	require.NoError(t, os.WriteFile(flake, []byte("{ outputs = { self }: { packages.x86_64-linux.default = import ./pkg.nix; }; }\n"), 0o644))
	evaltest.Git(t, dir, "add", "flake.nix")
	evaltest.Git(t, dir, "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "pkg")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pkg.nix"), []byte("{ }\n"), 0o644))

	c := newTestClient(t, Options{})
	c.initialize(nil, dir)
	c.open(flake)
	c.waitDiagnostics(flake, hasCodes("untracked-path"))
	actions := actionsAt(t, c, flake, "./pkg.nix")
	require.Equal(t, []string{"Track pkg.nix in git (git add)"}, titles(actions))
	fix := actions[0]
	require.Nil(t, fix.Edit)
	require.Equal(t, CommandGitAdd, fix.Command.Command)
	require.Equal(t, "untracked-path", fix.Diagnostics[0].Code)

	c.mustCall("workspace/executeCommand", protocol.ExecuteCommandParams{Command: fix.Command.Command, Arguments: fix.Command.Arguments}, nil)
	require.True(t, tracked(t, dir, "pkg.nix"))
	c.waitDiagnostics(flake, hasCodes())
	require.NoError(t, c.shutdown())
}
