package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/monoflake/monoflake/evalcache"
	"github.com/monoflake/monoflake/evalcache/evaltest"
)

// envCLI is a cli whose cache and data folders live in the test's temporary
// folder.
func envCLI(t *testing.T) (*cli, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	home := t.TempDir()
	vars := map[string]string{
		"HOME":           home,
		"XDG_CACHE_HOME": filepath.Join(home, "cache"),
		"XDG_DATA_HOME":  filepath.Join(home, "data"),
		"PATH":           os.Getenv("PATH"),
	}
	var stdout, stderr bytes.Buffer
	return &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return vars[k] }}, &stdout, &stderr
}

func TestEnvCommand(t *testing.T) {
	evaltest.RequireTool(t, "nix")
	evaltest.SetNixConfig(t)
	root := evaltest.CopyFixture(t, "monorepo")
	c, stdout, stderr := envCLI(t)
	ctx := context.Background()
	reset := func() { stdout.Reset(); stderr.Reset() }

	// Untrusted: one sentence saying how to trust, exit 1.
	require.Equal(t, exitFindings, run(ctx, c, []string{"env", filepath.Join(root, "backend")}))
	require.Equal(t, "monoflake: "+root+" is not trusted, so its devShells are not evaluated; run 'monoflake trust "+root+"' to trust it\n", stderr.String())
	require.Empty(t, stdout.String())
	reset()

	require.Equal(t, exitOK, run(ctx, c, []string{"trust", root}))
	reset()

	tests := []struct {
		name   string
		args   []string
		code   int
		expect string // in stdout
	}{
		{"bash", []string{"env", filepath.Join(root, "backend/src/main.rs")}, exitOK, "export BACKEND_PORT=8080\n"},
		{"json", []string{"env", "--format", "json", filepath.Join(root, "backend")}, exitOK, `"state": "fresh"`},
		{"flake mode", []string{"env", "--mode", "flake", filepath.Join(root, "infra")}, exitOK, "export TF_IN_AUTOMATION=1\n"},
		{"by name", []string{"env", "--component", "frontend", root}, exitOK, "export FRONTEND_PORT=3000\n"},
		{"bad format", []string{"env", "--format", "xml", root}, exitUsage, ""},
	}
	for _, tt := range tests {
		reset()
		require.Equal(t, tt.code, run(ctx, c, tt.args), "%s: %s", tt.name, stderr)
		require.Contains(t, stdout.String(), tt.expect, tt.name)
	}

	// JSON carries the environment in nix's own format.
	reset()
	require.Equal(t, exitOK, run(ctx, c, []string{"env", "--format", "json", filepath.Join(root, "backend")}))
	var out struct {
		Component   string
		Environment struct {
			Variables map[string]struct{ Type, Value string }
		}
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &out))
	require.Equal(t, "backend", out.Component)
	require.Equal(t, "8080", out.Environment.Variables["BACKEND_PORT"].Value)

	// A broken file: the error on stderr, the last good environment on
	// stdout, exit 3.
	outputs := filepath.Join(root, "backend/nix/outputs.nix")
	data, err := os.ReadFile(outputs)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(outputs, bytes.Replace(data, []byte(`"backend=debug"`), []byte(`oops`), 1), 0o644))
	reset()
	require.Equal(t, exitStale, run(ctx, c, []string{"env", filepath.Join(root, "backend")}))
	require.Contains(t, stderr.String(), outputs+":37:18: undefined variable 'oops'")
	require.Contains(t, stdout.String(), "export BACKEND_PORT=8080\n")
	require.Contains(t, stdout.String(), "MONOFLAKE_STALE=1")
}

func TestShellCommand(t *testing.T) {
	evaltest.RequireTool(t, "nix")
	evaltest.SetNixConfig(t)
	root := evaltest.CopyFixture(t, "monorepo")
	c, stdout, stderr := envCLI(t)
	ctx := context.Background()
	require.Equal(t, exitOK, run(ctx, c, []string{"trust", root}))
	stdout.Reset()

	code := run(ctx, c, []string{"shell", filepath.Join(root, "backend"), "--", "bash", "-c", `echo "$BACKEND_PORT $BACKEND_HOOK $(cargo)"; exit 7`})
	require.Equal(t, 7, code, stderr.String())
	require.Equal(t, "8080 ran cargo 1.72.0 (fake) \n", stdout.String())
}

func TestPlanFor(t *testing.T) {
	mono := evaltest.FixtureDir("monorepo")
	sub := evaltest.FixtureDir("subflakes")
	mono, _ = filepath.Abs(mono)
	sub, _ = filepath.Abs(sub)
	tests := []struct {
		path, component string
		root, dir       string
		shell           string
	}{
		{filepath.Join(mono, "backend/src/main.rs"), "", mono, filepath.Join(mono, "backend"), "backend"},
		{mono, "infra", mono, filepath.Join(mono, "infra"), "infra"},
		{filepath.Join(sub, "frontend/src"), "", filepath.Join(sub, "frontend"), filepath.Join(sub, "frontend"), "default"},
	}
	for _, tt := range tests {
		req, err := evalcache.PlanPath(context.Background(), tt.path, tt.component, "")
		require.NoError(t, err, tt.path)
		require.Equal(t, tt.root, req.Root, tt.path)
		require.Equal(t, tt.dir, req.ComponentDir, tt.path)
		require.Equal(t, tt.shell, req.Shell, tt.path)
	}
	_, err := evalcache.PlanPath(context.Background(), mono, "nosuch", "")
	require.ErrorContains(t, err, "there is no component nosuch")
	_, err = evalcache.PlanPath(context.Background(), mono, "", "")
	require.ErrorIs(t, err, evalcache.ErrNoDevShell, "the fixture's flake has no devShells.default")
}

// missedComponent is a copy of the bundled fixture with a component the
// model cannot see: tools/nix/outputs.nix is imported through a computed
// path and defines devShells.tools and the flake's devShells.default.
func missedComponent(t *testing.T) string {
	t.Helper()
	root := evaltest.CopyFixture(t, "monorepo")
	flake := filepath.Join(root, "flake.nix")
	data, err := os.ReadFile(flake)
	require.NoError(t, err)
	patched := strings.Replace(string(data), "        ./infra/nix/outputs.nix\n      ];",
		"        ./infra/nix/outputs.nix\n      ] ++ builtins.attrValues (builtins.mapAttrs (_: dir: ./. + \"/${dir}/nix/outputs.nix\") { t = \"tools\"; });", 1)
	require.NotEqual(t, string(data), patched, "the fixture's flake.nix changed; update this test")
	require.NoError(t, os.WriteFile(flake, []byte(patched), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "tools", "nix"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "tools", "nix", "outputs.nix"), []byte(`{ ... }: {
  perSystem = { pkgs, ... }: {
    devShells.tools = pkgs.mkShell { name = "tools-shell"; MONOREPO_COMPONENT = "tools"; };
    devShells.default = pkgs.mkShell { name = "default-shell"; MONOREPO_COMPONENT = "default"; };
  };
}
`), 0o644))
	evaltest.Git(t, root, "add", "-A")
	return root
}

// TestEnvWayOut covers a directory the model maps to no component: the
// message says what to do and which devShells there are, --shell and
// --mode flake evaluate anyway, and a named devShell never changes what the
// directory answers without one.
func TestEnvWayOut(t *testing.T) {
	evaltest.RequireTool(t, "nix")
	evaltest.SetNixConfig(t)
	root := missedComponent(t)
	tools := filepath.Join(root, "tools")
	c, stdout, stderr := envCLI(t)
	ctx := context.Background()
	require.Equal(t, exitOK, run(ctx, c, []string{"trust", root}))

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // contained in stdout
		stderr string   // all of stderr, root written as $ROOT
	}{
		{"no component", []string{"env", tools}, exitFindings, nil,
			"monoflake: $ROOT/tools belongs to no component the model found, and the flake defines no devShells.default; name a devShell with --shell NAME, or evaluate as nix does with --mode flake (the flake's devShells that monoflake sees: backend, frontend, infra, python)\n"},
		{"flake mode does what nix does", []string{"env", "--mode", "flake", tools}, exitOK,
			[]string{"export MONOREPO_COMPONENT=default\n", "export MONOFLAKE_SHELL=default\n"}, ""},
		{"a devShell by name", []string{"env", "--shell", "tools", tools}, exitOK,
			[]string{"export MONOREPO_COMPONENT=tools\n", "export MONOFLAKE_SHELL=tools\n"}, ""},
		{"a devShell by name, as a flake", []string{"env", "--shell", "tools", "--mode", "flake", root}, exitOK,
			[]string{"export MONOREPO_COMPONENT=tools\n"}, ""},
		{"another component's devShell", []string{"env", "--shell", "python", filepath.Join(root, "backend")}, exitOK,
			[]string{"export MONOREPO_COMPONENT=analytics\n", "export MONOFLAKE_SHELL=python\n"}, ""},
		{"the component's own is unchanged", []string{"env", filepath.Join(root, "backend")}, exitOK,
			[]string{"export MONOREPO_COMPONENT=backend\n"}, ""},
		{"no such devShell", []string{"env", "--shell", "nosuch", tools}, exitFindings, nil,
			"monoflake: the flake at $ROOT defines no devShells." + evalcache.CurrentSystem() + ".nosuch (the flake's devShells that monoflake sees: backend, frontend, infra, python)\n"},
		{"no such devShell, as a flake", []string{"env", "--shell", "nosuch", "--mode", "flake", tools}, exitFindings, nil,
			"monoflake: the flake at $ROOT defines no devShells." + evalcache.CurrentSystem() + ".nosuch (the flake's devShells that monoflake sees: backend, frontend, infra, python)\n"},
	}
	for _, tt := range tests {
		stdout.Reset()
		stderr.Reset()
		require.Equal(t, tt.code, run(ctx, c, tt.args), "%s: %s", tt.name, stderr)
		for _, want := range tt.stdout {
			require.Contains(t, stdout.String(), want, tt.name)
		}
		require.Equal(t, tt.stderr, strings.ReplaceAll(stderr.String(), root, "$ROOT"), tt.name)
	}

	// use monoflake --shell, in the directory of its .envrc.
	t.Chdir(tools)
	stdout.Reset()
	require.Equal(t, exitOK, run(ctx, c, []string{"direnv-export", "--shell", "tools"}), stderr.String())
	require.Contains(t, stdout.String(), "export MONOREPO_COMPONENT=tools\n")
}
