package direnv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWriteEnvrcs(t *testing.T) {
	tests := []struct {
		name        string
		existing    map[string]string // relative .envrc path -> content ("->" prefix: symlink target)
		dirs        []string
		wantWritten []string
		wantKept    []string
	}{
		{
			name:        "writes into every component without one",
			dirs:        []string{"backend", "frontend"},
			wantWritten: []string{"backend/.envrc", "frontend/.envrc"},
		},
		{
			name:        "keeps an existing file byte for byte",
			existing:    map[string]string{"backend/.envrc": "use flake .#backend\n"},
			dirs:        []string{"backend", "frontend"},
			wantWritten: []string{"frontend/.envrc"},
			wantKept:    []string{"backend/.envrc"},
		},
		{
			name:     "keeps a dangling symlink",
			existing: map[string]string{"infra/.envrc": "->../shared.envrc"},
			dirs:     []string{"infra"},
			wantKept: []string{"infra/.envrc"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			var dirs []string
			for _, d := range tt.dirs {
				require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
				dirs = append(dirs, filepath.Join(root, d))
			}
			for rel, content := range tt.existing {
				path := filepath.Join(root, rel)
				if target, ok := strings.CutPrefix(content, "->"); ok {
					require.NoError(t, os.Symlink(target, path))
				} else {
					require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
				}
			}

			written, kept, err := WriteEnvrcs(dirs)
			require.NoError(t, err)
			require.Equal(t, tt.wantWritten, relAll(t, root, written))
			require.Equal(t, tt.wantKept, relAll(t, root, kept))
			for _, rel := range tt.wantWritten {
				data, err := os.ReadFile(filepath.Join(root, rel))
				require.NoError(t, err)
				require.Equal(t, "use monoflake\n", string(data))
			}
			for rel, content := range tt.existing {
				if target, ok := strings.CutPrefix(content, "->"); ok {
					got, err := os.Readlink(filepath.Join(root, rel))
					require.NoError(t, err)
					require.Equal(t, target, got)
					continue
				}
				data, err := os.ReadFile(filepath.Join(root, rel))
				require.NoError(t, err)
				require.Equal(t, content, string(data))
			}
		})
	}
}

func TestWriteEnvrcsReportsWhatItWroteBeforeAnError(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(root, "ok"), 0o755))
	written, _, err := WriteEnvrcs([]string{filepath.Join(root, "ok"), filepath.Join(root, "missing")})
	require.Error(t, err)
	require.Contains(t, err.Error(), "missing/.envrc")
	require.Equal(t, []string{filepath.Join(root, "ok", ".envrc")}, written)
}

func relAll(t *testing.T, root string, paths []string) []string {
	t.Helper()
	var out []string
	for _, p := range paths {
		rel, err := filepath.Rel(root, p)
		require.NoError(t, err)
		out = append(out, rel)
	}
	return out
}
