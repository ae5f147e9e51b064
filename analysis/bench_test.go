package analysis

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sourcegraph/conc/pool"
	"github.com/stretchr/testify/require"

	"github.com/monoflake/monoflake/analysis/syntax"
	"github.com/monoflake/monoflake/tools/genrepo"
)

// benchComponents is the size of the synthetic monorepo; override with
// MONOFLAKE_BENCH_COMPONENTS for quicker runs.
func benchComponents() int {
	if n, err := strconv.Atoi(os.Getenv("MONOFLAKE_BENCH_COMPONENTS")); err == nil && n > 0 {
		return n
	}
	return 5000
}

// parseOnly is the baseline: read and tree-sitter-parse every file with the
// same worker count, nothing else.
func parseOnly(b *testing.B, files []string) time.Duration {
	start := time.Now()
	var next atomic.Int64
	p := pool.New().WithMaxGoroutines(runtime.GOMAXPROCS(0))
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		p.Go(func() {
			parser := syntax.NewParser()
			defer parser.Close()
			for i := int(next.Add(1) - 1); i < len(files); i = int(next.Add(1) - 1) {
				src, err := os.ReadFile(files[i])
				if err == nil {
					parser.Parse(src)
				}
			}
		})
	}
	p.Wait()
	return time.Since(start)
}

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// BenchmarkIndex measures a cold index of a synthetic monorepo against
// parsing the same files alone, the re-index after one edit, peak heap, and
// the cost of 200,000 non-Nix files in the tree. Figures are printed as
// ratios against baselines measured in the same run.
func BenchmarkIndex(b *testing.B) {
	n := benchComponents()
	ctx := context.Background()
	repo, err := genrepo.Generate(filepath.Join(b.TempDir(), "repo"), genrepo.Options{Components: n, Git: true})
	require.NoError(b, err)
	files, _, _, err := listFiles(ctx, repo.Root)
	require.NoError(b, err)

	const rounds = 5
	var parse, index []time.Duration
	var snap *Snapshot
	for i := 0; i < rounds; i++ {
		parse = append(parse, parseOnly(b, files))
		runtime.GC()
		start := time.Now()
		snap, err = Load(ctx, repo.Root)
		require.NoError(b, err)
		index = append(index, time.Since(start))
	}
	require.Len(b, snap.Components(), n)

	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)

	// Re-index after editing one component file.
	target := snap.Components()[n/2].Modules[0]
	src, err := os.ReadFile(target)
	require.NoError(b, err)
	parser := syntax.NewParser()
	defer parser.Close()
	var edits []time.Duration
	for i := 0; i < 200; i++ {
		edited := append(append([]byte{}, src...), []byte("\n# edit "+strconv.Itoa(i)+"\n")...)
		start := time.Now()
		next := snap.WithFile(ctx, parser, target, edited)
		edits = append(edits, time.Since(start))
		require.NotNil(b, next)
	}

	pm, im := median(parse), median(index)
	b.Logf("N=%d components, %d .nix files", n, len(files))
	b.Logf("cold index: median %v; parse only: median %v; ratio %.2fx (goal <= 1.5x, < 2s)", im, pm, float64(im)/float64(pm))
	b.Logf("re-index after one edit: median %v (goal < 5ms)", median(edits))
	b.Logf("heap in use after indexing: %d MB (goal < 500 MB)", ms.HeapInuse>>20)
	b.ReportMetric(float64(im)/float64(pm), "index/parse")
	b.ReportMetric(float64(median(edits).Microseconds()), "edit-µs")
	b.ReportMetric(float64(ms.HeapInuse>>20), "heap-MB")
}

// BenchmarkWalkNonNix compares indexing a repository that also holds
// 200,000 non-Nix files with indexing its Nix files alone.
func BenchmarkWalkNonNix(b *testing.B) {
	ctx := context.Background()
	const comps = 1000
	plain, err := genrepo.Generate(filepath.Join(b.TempDir(), "plain"), genrepo.Options{Components: comps, Git: true})
	require.NoError(b, err)
	big, err := genrepo.Generate(filepath.Join(b.TempDir(), "big"), genrepo.Options{Components: comps, Git: true, NonNixFiles: 200000})
	require.NoError(b, err)
	var tp, tb []time.Duration
	for i := 0; i < 5; i++ {
		for _, r := range []struct {
			root string
			out  *[]time.Duration
		}{{plain.Root, &tp}, {big.Root, &tb}} {
			start := time.Now()
			_, err := Load(ctx, r.root)
			require.NoError(b, err)
			*r.out = append(*r.out, time.Since(start))
		}
	}
	ratio := float64(median(tb)) / float64(median(tp))
	b.Logf("index with 200,000 non-Nix files: %v; without: %v; ratio %.2fx (goal <= 2x)", median(tb), median(tp), ratio)
	b.ReportMetric(ratio, "nonnix/plain")
}
