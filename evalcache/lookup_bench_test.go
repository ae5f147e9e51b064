package evalcache

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkLookupLargeEntry: validating an entry that depends on 5,000
// files (an unpruned evaluation of a 5,000-component repository) must stay
// far below the 15 ms a cache hit may cost.
func BenchmarkLookupLargeEntry(b *testing.B) {
	root := b.TempDir()
	require.NoError(b, os.WriteFile(filepath.Join(root, "flake.nix"), []byte("{ }"), 0o644))
	var paths []string
	for i := range 5000 {
		p := filepath.Join(root, fmt.Sprintf("c%04d", i), "nix", "outputs.nix")
		require.NoError(b, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(b, os.WriteFile(p, []byte(fmt.Sprintf("{ perSystem = { }; } # %d\n", i)), 0o644))
		paths = append(paths, p)
	}
	c, err := Open(Options{Dir: filepath.Join(b.TempDir(), "cache"), DataDir: filepath.Join(b.TempDir(), "data")})
	require.NoError(b, err)
	require.NoError(b, c.Trust(root))
	deps, err := snapshotDeps(paths, nil, time.Time{})
	require.NoError(b, err)
	drv := "/nix/store/00000000000000000000000000000000-x.drv"
	require.NoError(b, writeAtomic(c.envPath(drv), []byte(`{"bashFunctions":{},"variables":{"A":{"type":"exported","value":"1"}}}`)))
	dir := filepath.Join(root, "c0001")
	rec := &record{Root: root, Component: "c0001", ComponentDir: dir, Shell: "c0001", System: "x86_64-linux", Mode: Scoped, Deps: deps, DrvPath: drv}
	require.NoError(b, writeRecord(c.entryPath(dir, Scoped, "x86_64-linux"), rec))
	b.ResetTimer()
	for range b.N {
		f, _, ok := c.findByPath(dir, "", Scoped)
		require.True(b, ok && f.hit != nil)
	}
}
