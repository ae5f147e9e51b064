package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/monoflake/monoflake/evalcache/evaltest"
)

// The bundled monorepo, as a team uses it: CI publishes every component to
// a binary cache in a temporary folder, and a developer's checkout
// elsewhere, with a clean cache and a store of its own, gets each
// environment with `monoflake env` without evaluating anything, equal to
// CI's local evaluation variable for variable.
func TestPublishThenEnv(t *testing.T) {
	evaltest.RequireTool(t, "nix")
	evaltest.SetNixConfig(t)
	ctx := context.Background()
	cacheDir := filepath.Join(t.TempDir(), "cache")
	url := "file://" + cacheDir
	root := evaltest.CopyFixture(t, "monorepo")
	cfg, err := json.Marshal(map[string]string{"cache": url})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, ".monoflake.json"), cfg, 0o644))
	evaltest.Git(t, root, "add", "-A")
	evaltest.Git(t, root, "commit", "-q", "-m", "team cache")
	keys := t.TempDir()
	secret, public := filepath.Join(keys, "key.sec"), filepath.Join(keys, "key.pub")
	out, err := exec.Command("nix-store", "--generate-binary-cache-key", "monoflake-team-1", secret, public).CombinedOutput()
	require.NoError(t, err, "%s", out)
	pub, err := os.ReadFile(public)
	require.NoError(t, err)

	// CI.
	ci, stdout, stderr := envCLI(t)
	require.Equal(t, exitOK, run(ctx, ci, []string{"trust", root}))
	require.Equal(t, exitUsage, run(ctx, ci, []string{"publish", "--to", url}), "the key is required")
	stdout.Reset()
	stderr.Reset()
	t.Chdir(root)
	require.Equal(t, exitOK, run(ctx, ci, []string{"publish", "--to", url, "--secret-key-file", secret}), "%s", stderr)
	for _, comp := range []string{"analytics", "backend", "frontend", "infra"} {
		require.Regexp(t, `published `+comp+` /nix/store/[a-z0-9]{32}-monoflake-env-`+comp+"\n", stdout.String())
	}
	require.Regexp(t, `published the index of [0-9a-f]{40} /nix/store/[a-z0-9]{32}-monoflake-index`, stdout.String())
	want := map[string]map[string]struct{ Type, Value string }{}
	for _, comp := range []string{"analytics", "backend", "frontend", "infra"} {
		stdout.Reset()
		require.Equal(t, exitOK, run(ctx, ci, []string{"env", "--format", "json", filepath.Join(root, comp)}))
		want[comp] = envVariables(t, stdout.Bytes()).Environment.Variables
	}
	// Publishing again copies nothing.
	stdout.Reset()
	require.Equal(t, exitOK, run(ctx, ci, []string{"publish", "--to", url, "--secret-key-file", secret}), "%s", stderr)
	require.Equal(t, 4, strings.Count(stdout.String(), "in the cache already: "))

	// A developer.
	dev := filepath.Join(t.TempDir(), "checkout")
	require.NoError(t, os.CopyFS(dev, os.DirFS(root)))
	time.Sleep(50 * time.Millisecond)
	nix := evaltest.NewCountingNix(t, strings.TrimSpace(string(pub)), "")
	t.Setenv("PATH", filepath.Dir(nix.Nix)+string(os.PathListSeparator)+os.Getenv("PATH"))
	c, stdout, stderr := envCLI(t)
	require.Equal(t, exitOK, run(ctx, c, []string{"trust", dev}))
	for comp, vars := range want {
		stdout.Reset()
		stderr.Reset()
		require.Equal(t, exitOK, run(ctx, c, []string{"env", "--format", "json", filepath.Join(dev, comp)}), "%s", stderr)
		got := envVariables(t, stdout.Bytes())
		require.Equal(t, url, got.Remote, "%s: %s", comp, stderr)
		require.Empty(t, stderr.String())
		require.Equal(t, vars, got.Environment.Variables, comp)
	}
	require.Empty(t, nix.Evaluations(t))
	require.NotEmpty(t, nix.Calls(t), "the developer's nix is the counting one")

	// A miss says why in one line, and evaluates here.
	evaltest.EditFile(t, filepath.Join(dev, "backend/nix/outputs.nix"), `BACKEND_PORT = "8080"`, `BACKEND_PORT = "9090"`)
	stdout.Reset()
	stderr.Reset()
	require.Equal(t, exitOK, run(ctx, c, []string{"env", filepath.Join(dev, "backend")}), "%s", stderr)
	require.Contains(t, stdout.String(), "export BACKEND_PORT=9090\n")
	require.Regexp(t, "^monoflake: evaluated backend here: the team cache "+url+" has no environment of backend for its files as they are[^\n]*\n$", stderr.String())
	require.NotEmpty(t, nix.Evaluations(t))
}

type envJSON struct {
	Remote      string
	Environment struct {
		Variables map[string]struct{ Type, Value string }
	}
}

func envVariables(t *testing.T, data []byte) envJSON {
	t.Helper()
	var out envJSON
	require.NoError(t, json.Unmarshal(data, &out), "%s", data)
	require.NotEmpty(t, out.Environment.Variables)
	return out
}
