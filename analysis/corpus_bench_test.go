package analysis

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkCorpusIndex indexes each real repository of a corpus folder
// (MONOFLAKE_CORPUS_DIR: one folder per repository, as `make corpus`
// unpacks them) cold, against a parse-only pass over the same files in the
// same run: the model's cost on repositories nobody wrote for it.
func BenchmarkCorpusIndex(b *testing.B) {
	dir := os.Getenv("MONOFLAKE_CORPUS_DIR")
	if dir == "" {
		b.Skip("MONOFLAKE_CORPUS_DIR names no corpus folder; nothing to measure")
	}
	entries, err := os.ReadDir(dir)
	require.NoError(b, err)
	ctx := context.Background()
	const rounds = 5
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		root := filepath.Join(dir, e.Name())
		files, _, _, err := listFiles(ctx, root)
		require.NoError(b, err)
		var parse, index []time.Duration
		for i := 0; i < rounds; i++ {
			parse = append(parse, parseOnly(b, files))
			runtime.GC()
			start := time.Now()
			_, err := Load(ctx, root)
			require.NoError(b, err)
			index = append(index, time.Since(start))
		}
		pm, im := median(parse), median(index)
		fmt.Printf("%-40s %5d files: cold index %7v, parse only %7v: %.2fx\n", e.Name(), len(files),
			im.Round(time.Millisecond), pm.Round(time.Millisecond), float64(im)/float64(pm))
	}
}
