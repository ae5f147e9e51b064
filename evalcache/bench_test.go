package evalcache

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/monoflake/monoflake/evalcache/evaltest"
	"github.com/monoflake/monoflake/tools/genrepo"
	"github.com/stretchr/testify/require"
)

// Benchmarks of the speed targets. Each measures its baseline in the
// same run and prints the ratio; run them with
//
//	go test -run '^$' -bench . -benchtime 1x -timeout 60m ./evalcache/
//
// Every number is the median of several runs made inside one iteration, so
// -benchtime 1x is enough.

const benchRuns = 7

// benchRepo generates a committed synthetic monorepo with a tracked notes
// file that unrelatedEdit changes.
func benchRepo(b *testing.B, opt genrepo.Options) *genrepo.Repo {
	b.Helper()
	evaltest.RequireTool(b, "nix")
	evaltest.RequireTool(b, "git")
	opt.Git = true
	repo, err := genrepo.Generate(filepath.Join(b.TempDir(), "repo"), opt)
	require.NoError(b, err)
	notes := filepath.Join(repo.Root, "NOTES.md")
	require.NoError(b, os.WriteFile(notes, []byte("# Notes\n"), 0o644))
	evaltest.Git(b, repo.Root, "add", "NOTES.md")
	evaltest.Git(b, repo.Root, "commit", "-q", "-m", "notes")
	return repo
}

// unrelatedEdit changes a tracked file no shell reads, which is what makes
// nix copy the tree again and skip its evaluation cache.
func unrelatedEdit(b *testing.B, root string) {
	f, err := os.OpenFile(filepath.Join(root, "NOTES.md"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(b, err)
	fmt.Fprintf(f, "edit %d\n", time.Now().UnixNano())
	require.NoError(b, f.Close())
}

// oneDependency picks a component that references exactly one component,
// which references none, so its closure is the same at every size.
func oneDependency(b *testing.B, repo *genrepo.Repo) genrepo.Component {
	for _, c := range repo.WithDependencies(1) {
		if dep, ok := repo.Component(c.Dependencies[0]); ok && len(dep.Dependencies) == 0 && contains(c.Outputs, "devShells") {
			return c
		}
	}
	b.Fatal("no component with exactly one dependency")
	return genrepo.Component{}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// timeRuns returns the median wall time of f over benchRuns runs, each
// after prepare (not timed).
func timeRuns(prepare, f func()) time.Duration {
	var ds []time.Duration
	for range benchRuns {
		prepare()
		start := time.Now()
		f()
		ds = append(ds, time.Since(start))
	}
	return median(ds)
}

// nixPrintDevEnv times `nix print-dev-env .#devShells.SYSTEM.NAME` after an
// unrelated edit, and returns its variables.
func nixPrintDevEnv(b *testing.B, root, shell string) (time.Duration, *Environment) {
	r := runner{nix: "nix"}
	var env *Environment
	d := timeRuns(func() { unrelatedEdit(b, root) }, func() {
		out, err := r.run(context.Background(), root, "print-dev-env", "--json", ".#devShells.x86_64-linux."+shell)
		require.NoError(b, err, "%s", out.Stderr)
		env, err = ParseEnvironment(out.Stdout)
		require.NoError(b, err)
	})
	return d, env
}

// coldGet times one evaluation with no cache entry and no stored environment
// (the derivations themselves are built, as they are for the baseline).
func coldGet(b *testing.B, c *Cache, req Request) (time.Duration, *Result) {
	for _, sub := range []string{"entries", "envs", "roots"} {
		require.NoError(b, os.RemoveAll(filepath.Join(c.Dir(), sub)))
	}
	start := time.Now()
	res, err := c.Get(context.Background(), req)
	d := time.Since(start)
	require.NoError(b, err)
	require.Nil(b, res.Err)
	require.False(b, res.Hit)
	return d, res
}

func benchCache(b *testing.B, root string) *Cache {
	var log io.Writer
	if os.Getenv("MONOFLAKE_BENCH_LOG") != "" {
		log = os.Stderr
	}
	c, err := Open(Options{Dir: filepath.Join(b.TempDir(), "cache"), DataDir: filepath.Join(b.TempDir(), "data"), Log: log})
	require.NoError(b, err)
	require.NoError(b, c.Trust(root))
	return c
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkScaling: opening a component costs what its closure costs. Cold
// pruned evaluation of a component with one dependency at 10, 1,000 and
// 5,000 components, against `nix print-dev-env .#x` at 5,000. The sizes are
// measured round-robin so that load from other processes hits them alike.
func BenchmarkScaling(b *testing.B) {
	b.Setenv("NIX_CONFIG", os.Getenv("NIX_CONFIG")+"\n"+evaltest.NixConfig)
	sizes := []int{10, 1000, 5000}
	type subject struct {
		repo *genrepo.Repo
		c    *Cache
		req  Request
		runs []time.Duration
		res  *Result
	}
	subjects := map[int]*subject{}
	var comp genrepo.Component
	for _, n := range sizes {
		repo := benchRepo(b, genrepo.Options{Components: n})
		comp = oneDependency(b, repo)
		c := benchCache(b, repo.Root)
		req := Request{Root: repo.Root, Component: comp.Name, ComponentDir: filepath.Join(repo.Root, comp.Name), Shell: comp.Name, System: "x86_64-linux"}
		req.Pruned = prunedFor(b, repo.Root, evaltest.ClosureModules(repo, comp.Name)...)
		// The first evaluation builds the derivations and verifies pruning.
		_, err := c.Get(context.Background(), req)
		require.NoError(b, err)
		require.NoError(b, c.Close())
		subjects[n] = &subject{repo: repo, c: c, req: req}
	}
	for range benchRuns {
		for _, n := range sizes {
			s := subjects[n]
			d, res := coldGet(b, s.c, s.req)
			require.True(b, res.Pruned, "pruning was verified and kept")
			s.runs, s.res = append(s.runs, d), res
		}
	}
	times := map[int]time.Duration{}
	for _, n := range sizes {
		times[n] = median(subjects[n].runs)
		b.Logf("%5d components: cold pruned scoped evaluation of %s %.1f ms", n, comp.Name, ms(times[n]))
	}
	big := subjects[5000]
	nixTime, nixEnv := nixPrintDevEnv(b, big.repo.Root, comp.Name)
	require.Equal(b, nixEnv.Variables, big.res.Env.Variables, "same variables as nix print-dev-env")
	r1000 := float64(times[1000]) / float64(times[10])
	r5000 := float64(times[5000]) / float64(times[10])
	speedup := float64(nixTime) / float64(times[5000])
	b.ReportMetric(ms(times[10]), "ms/10")
	b.ReportMetric(ms(times[5000]), "ms/5000")
	b.ReportMetric(r5000, "x5000/10")
	b.ReportMetric(speedup, "x-faster-than-nix")
	fmt.Printf("scaling: cold pruned eval %.1f ms at 10, %.1f ms at 1000 (%.2fx), %.1f ms at 5000 (%.2fx); nix print-dev-env .#%s at 5000 after an unrelated edit %.1f ms: %.1fx faster\n",
		ms(times[10]), ms(times[1000]), r1000, ms(times[5000]), r5000, comp.Name, ms(nixTime), speedup)
}

// BenchmarkLargeTree: cold scoped evaluation in a repository with 300 MB of
// tracked non-Nix files, against `nix print-dev-env .#X` on the same shell.
func BenchmarkLargeTree(b *testing.B) {
	b.Setenv("NIX_CONFIG", os.Getenv("NIX_CONFIG")+"\n"+evaltest.NixConfig)
	repo := benchRepo(b, genrepo.Options{Components: 10, BlobBytes: 300 << 20})
	comp := oneDependency(b, repo)
	c := benchCache(b, repo.Root)
	req := Request{Root: repo.Root, Component: comp.Name, ComponentDir: filepath.Join(repo.Root, comp.Name), Shell: comp.Name, System: "x86_64-linux"}
	_, err := c.Get(context.Background(), req)
	require.NoError(b, err)
	var runs []time.Duration
	var res *Result
	for range benchRuns {
		var d time.Duration
		d, res = coldGet(b, c, req)
		runs = append(runs, d)
	}
	scoped := median(runs)
	nixTime, nixEnv := nixPrintDevEnv(b, repo.Root, comp.Name)
	require.Equal(b, nixEnv.Variables, res.Env.Variables, "same variables as nix print-dev-env")
	speedup := float64(nixTime) / float64(scoped)
	b.ReportMetric(ms(scoped), "ms-scoped")
	b.ReportMetric(ms(nixTime), "ms-nix")
	b.ReportMetric(speedup, "x-faster-than-nix")
	fmt.Printf("300 MB tree: cold scoped eval of %s %.1f ms; nix print-dev-env .#%s after an unrelated edit %.1f ms: %.1fx faster\n",
		comp.Name, ms(scoped), comp.Name, ms(nixTime), speedup)
}
