package direnv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// decodeForTest reads DIRENV_WATCHES into maps with lower-case keys, as
// direnv's decoding ignores their case.
func decodeForTest(t *testing.T, value string) []map[string]any {
	t.Helper()
	raw, err := decodeWatches(value)
	require.NoError(t, err)
	var out []map[string]any
	for _, r := range raw {
		var m map[string]any
		require.NoError(t, json.Unmarshal(r, &m))
		lower := map[string]any{}
		for k, v := range m {
			lower[strings.ToLower(k)] = v
		}
		out = append(out, lower)
	}
	return out
}

func TestAddWatches(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "outputs.nix")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	mtime := time.Unix(1700000000, 0)
	require.NoError(t, os.Chtimes(file, mtime, mtime))
	dangling := filepath.Join(dir, "dangling.nix")
	require.NoError(t, os.Symlink(filepath.Join(dir, "nowhere"), dangling))
	missing := filepath.Join(dir, "missing.nix")

	// What direnv 2.32 puts in the environment of an .envrc, with a field a
	// later direnv might add.
	start, err := encodeWatches([]json.RawMessage{
		json.RawMessage(`{"Path":"/repo/backend/.envrc","Modtime":1600000000,"Exists":true,"Future":1}`),
		json.RawMessage(`{"path":"` + file + `","modtime":1,"exists":false}`),
	})
	require.NoError(t, err)

	got, err := AddWatches(start, []string{file, dangling, missing, file})
	require.NoError(t, err)
	require.Equal(t, []map[string]any{
		{"path": "/repo/backend/.envrc", "modtime": 1600000000.0, "exists": true, "future": 1.0},
		{"path": file, "modtime": 1700000000.0, "exists": true},
		{"path": dangling, "modtime": 0.0, "exists": false},
		{"path": missing, "modtime": 0.0, "exists": false},
	}, decodeForTest(t, got))
	raw, err := decodeWatches(got)
	require.NoError(t, err)
	require.JSONEq(t, `{"Path":"/repo/backend/.envrc","Modtime":1600000000,"Exists":true,"Future":1}`, string(raw[0]), "direnv's own entries are kept as they were")

	empty, err := AddWatches("", []string{missing})
	require.NoError(t, err)
	require.Len(t, decodeForTest(t, empty), 1)

	for _, bad := range []string{"not base64!", "aGVsbG8=", mustCompress(t, `{"not":"a list"}`), mustCompress(t, `[{"Path":1}]`)} {
		_, err := AddWatches(bad, []string{file})
		require.Error(t, err, "%q", bad)
	}
}

func mustCompress(t *testing.T, jsonText string) string {
	t.Helper()
	out, err := compress([]byte(jsonText))
	require.NoError(t, err)
	return out
}

// TestAddWatchesMatchesDirenv checks the encoding against the real direnv:
// `direnv watch` on the same files must record the same entries.
func TestAddWatchesMatchesDirenv(t *testing.T) {
	direnvBin := requireTool(t, "direnv")
	dir := t.TempDir()
	file := filepath.Join(dir, "flake.nix")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	missing := filepath.Join(dir, "missing.nix")

	start, err := encodeWatches([]json.RawMessage{json.RawMessage(`{"Path":"/r/.envrc","Modtime":5,"Exists":true}`)})
	require.NoError(t, err)
	ours, err := AddWatches(start, []string{file, missing})
	require.NoError(t, err)

	s := newSandbox(t)
	s.setenv("DIRENV_WATCHES", start)
	out := string(s.run(dir, direnvBin, "watch", "bash", file, missing))
	m := regexp.MustCompile(`DIRENV_WATCHES=\$?'?([A-Za-z0-9_=-]+)`).FindStringSubmatch(out)
	require.NotNil(t, m, "direnv watch printed %q", out)
	theirs := decodeForTest(t, m[1])
	require.Len(t, theirs, 3)
	require.Equal(t, theirs, decodeForTest(t, ours))
}
