package direnv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeMonoflake writes a script standing in for the monoflake binary: it
// records its arguments and prints body's output with the given exit code.
func fakeMonoflake(t *testing.T, path, body string, code int) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	script := "#!/bin/bash\nprintf '%s\\n' \"$0 $*\" >> \"$CALLS\"\n" + body + "\nexit " + strconv.Itoa(code) + "\n"
	require.NoError(t, os.WriteFile(path, []byte(script), 0o755))
}

func TestDirenvrc(t *testing.T) {
	bash := requireTool(t, "bash")
	tests := []struct {
		name       string
		embedded   bool   // a binary exists at the embedded path
		onPath     bool   // a binary named monoflake is on PATH
		code       int    // its exit code
		args       string // arguments of use_monoflake
		wantCalled string // which binary ran: "embedded", "path" or ""
		wantStatus int
		wantVar    string // FROM_EXPORT after use_monoflake
		strict     bool   // run under direnv's strict_env (set -euo pipefail)
	}{
		{name: "embedded binary wins", embedded: true, onPath: true, args: "backend", wantCalled: "embedded", wantVar: "embedded"},
		{name: "falls back to PATH", onPath: true, args: "--mode flake", wantCalled: "path", wantVar: "path"},
		{name: "stale environment still applies", embedded: true, code: 3, wantCalled: "embedded", wantVar: "embedded"},
		{name: "stale under strict_env", embedded: true, code: 3, wantCalled: "embedded", wantVar: "embedded", strict: true},
		{name: "failure still applies watches but fails", embedded: true, code: 1, wantCalled: "embedded", wantStatus: 1, wantVar: "embedded"},
		{name: "no binary anywhere", wantStatus: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			embedded := filepath.Join(dir, "store", "monoflake")
			pathDir := filepath.Join(dir, "bin")
			require.NoError(t, os.MkdirAll(pathDir, 0o755))
			if tt.embedded {
				fakeMonoflake(t, embedded, "echo 'export FROM_EXPORT=embedded'", tt.code)
			}
			if tt.onPath {
				fakeMonoflake(t, filepath.Join(pathDir, "monoflake"), "echo 'export FROM_EXPORT=path'", tt.code)
			}
			driver := Direnvrc(embedded) + `
log_error() { echo "error: $*" >&2; }
use_monoflake ` + tt.args + `
echo "status=$? var=${FROM_EXPORT:-}"
`
			if tt.strict {
				driver = "set -euo pipefail\n" + driver
			}
			cmd := exec.Command(bash, "--norc", "--noprofile", "-c", driver)
			cmd.Env = []string{"PATH=" + pathDir + ":/usr/bin:/bin", "CALLS=" + filepath.Join(dir, "calls")}
			out, err := cmd.Output()
			require.NoError(t, err)
			require.Equal(t, "status="+strconv.Itoa(tt.wantStatus)+" var="+tt.wantVar+"\n", string(out))

			calls, _ := os.ReadFile(filepath.Join(dir, "calls"))
			wantArgs := strings.TrimSpace(" direnv-export " + tt.args)
			switch tt.wantCalled {
			case "embedded":
				require.Equal(t, embedded+" "+wantArgs+"\n", string(calls))
			case "path":
				require.Equal(t, filepath.Join(pathDir, "monoflake")+" "+wantArgs+"\n", string(calls))
			default:
				require.Empty(t, calls)
			}
		})
	}
}

func TestDirenvrcQuotesTheEmbeddedPath(t *testing.T) {
	rc := Direnvrc("/opt/it's here/monoflake")
	require.Contains(t, rc, `local __monoflake_bin='/opt/it'\''s here/monoflake' `)
	require.NotContains(t, rc, "@MONOFLAKE_BIN@")
	require.True(t, strings.HasPrefix(rc, "# use_monoflake"))
}
