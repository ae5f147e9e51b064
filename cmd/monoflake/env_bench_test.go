package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/monoflake/monoflake/evalcache"
	"github.com/monoflake/monoflake/evalcache/evaltest"
	"github.com/monoflake/monoflake/tools/genrepo"
	"github.com/stretchr/testify/require"
)

// BenchmarkEnvHit times `monoflake env` on a cache hit in a 5,000-component
// repository, for the whole process, against the cheapest thing nix does
// for a devShell it has already built (`nix print-dev-env` of the
// derivation, no evaluation) and against starting /bin/true. Anchors from
// elsewhere: nix-direnv's cached load is reported at 260-450 ms, devenv's
// at 70 ms.
func BenchmarkEnvHit(b *testing.B) {
	evaltest.RequireTool(b, "nix")
	b.Setenv("NIX_CONFIG", os.Getenv("NIX_CONFIG")+"\n"+evaltest.NixConfig)
	tmp := b.TempDir()
	bin := filepath.Join(tmp, "monoflake")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(b, err, "%s", out)
	repo, err := genrepo.Generate(filepath.Join(tmp, "repo"), genrepo.Options{Components: 5000, Git: true})
	require.NoError(b, err)
	// A component from the middle of the repository whose shell builds
	// little: the benchmark is about the hit, not the first build.
	var comp genrepo.Component
	for _, c := range repo.WithDependencies(0)[len(repo.WithDependencies(0))/2:] {
		if slices.Contains(c.Outputs, "devShells") {
			comp = c
			break
		}
	}
	require.NotEmpty(b, comp.Name)
	dir := filepath.Join(repo.Root, comp.Name)
	env := append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(tmp, "cache"), "XDG_DATA_HOME="+filepath.Join(tmp, "data"))
	command := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(name, args...)
		cmd.Env = env
		return cmd
	}
	out, err = command(bin, "trust", repo.Root).CombinedOutput()
	require.NoError(b, err, "%s", out)
	// Builders killed by load elsewhere on the machine fail a build now and
	// then; a build failure is retried on the next request, so try again.
	for range 3 {
		if out, err = command(bin, "env", "--format", "json", dir).CombinedOutput(); err == nil {
			break
		}
	}
	require.NoError(b, err, "first evaluation: %s", out)
	drv := regexpDrv(string(out))
	require.NotEmpty(b, drv)

	const runs = 21
	timeCmd := func(name string, args ...string) time.Duration {
		var ds []time.Duration
		for range runs {
			cmd := command(name, args...)
			start := time.Now()
			out, err := cmd.Output()
			ds = append(ds, time.Since(start))
			require.NoError(b, err, "%s %v", name, args)
			require.NotEmpty(b, out)
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)/2]
	}
	hit := timeCmd(bin, "env", filepath.Join(dir, "nix", "outputs.nix"))
	nixCached := timeCmd("nix", "print-dev-env", "--json", drv)
	floor := timeCmd("/bin/sh", "-c", "echo x")

	// The same hit without starting a process, for the cost of the lookup.
	c, err := evalcache.Open(evalcache.Options{Dir: filepath.Join(tmp, "cache", "monoflake"), DataDir: filepath.Join(tmp, "data", "monoflake")})
	require.NoError(b, err)
	start := time.Now()
	for range runs {
		_, _, ok := c.Lookup(context.Background(), dir, "", "")
		require.True(b, ok)
	}
	lookup := time.Since(start) / runs

	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(hit), "ms-hit")
	b.ReportMetric(ms(nixCached), "ms-nix-cached")
	b.ReportMetric(float64(nixCached)/float64(hit), "x-faster-than-nix")
	fmt.Printf("cache hit, 5000 components: monoflake env %.1f ms median for the whole process (lookup alone %.2f ms, starting sh %.1f ms); nix print-dev-env of the built derivation %.1f ms: %.1fx faster\n",
		ms(hit), ms(lookup), ms(floor), ms(nixCached), float64(nixCached)/float64(hit))
}

func regexpDrv(jsonOut string) string {
	_, after, ok := strings.Cut(jsonOut, `"drvPath": "`)
	if !ok {
		return ""
	}
	drv, _, _ := strings.Cut(after, `"`)
	return drv
}
