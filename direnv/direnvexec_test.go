package direnv

import (
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/monoflake/monoflake/evalcache"
)

// TestRenderThroughDirenv loads rendered output through the installed
// use_monoflake and the real direnv, with a stand-in binary that prints it,
// and compares what `direnv exec` hands a command byte for byte.
func TestRenderThroughDirenv(t *testing.T) {
	s := newSandbox(t)
	vars := map[string]evalcache.Variable{"PATH": exported("/opt/devshell/bin")}
	for name, v := range trickyValues() {
		vars[name] = exported(v)
	}
	rendered := filepath.Join(s.root, "rendered.sh")
	require.NoError(t, os.WriteFile(rendered, Render(Export{
		Component: "backend", Shell: "backend", Stale: true,
		Env:       &evalcache.Environment{Variables: vars},
		OuterPath: s.getenv("PATH"),
	}), 0o644))
	bin := filepath.Join(s.root, "bin", "monoflake")
	fakeMonoflake(t, bin, "cat "+Quote(rendered), 3)
	s.setenv("CALLS", filepath.Join(s.root, "calls"))
	s.installDirenvrc(Direnvrc(bin))

	project := filepath.Join(s.root, "project")
	require.NoError(t, os.Mkdir(project, 0o755))
	s.writeEnvrc(project, "use monoflake --mode flake backend\n")
	env := s.execEnv(project)

	for name, value := range trickyValues() {
		require.Equal(t, []byte(direnvTransport(value)), []byte(env[name]), "variable %s", name)
	}
	require.Equal(t, "/opt/devshell/bin:"+s.getenv("PATH"), env["PATH"])
	require.Equal(t, "backend", env["MONOFLAKE_COMPONENT"])
	require.Equal(t, "1", env["MONOFLAKE_STALE"])
	calls, err := os.ReadFile(filepath.Join(s.root, "calls"))
	require.NoError(t, err)
	require.Contains(t, string(calls), bin+" direnv-export --mode flake backend\n")
}

// direnvTransport is what direnv 2.32 makes of a value: it carries the
// environment as JSON, which turns every byte that is not UTF-8 into U+FFFD.
// Everything else arrives unchanged.
func direnvTransport(s string) string {
	var out []byte
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, s[:size]...)
		}
		s = s[size:]
	}
	return string(out)
}
