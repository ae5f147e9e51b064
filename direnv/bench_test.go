package direnv

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkDirenvLoad compares, in the same run, how long direnv takes to
// load the backend of testdata/monorepo through `use monoflake` on a cache
// hit and through a static .envrc exporting exactly the variables that load
// produces. Loads alternate so both see the same machine; medians are
// reported. The budget: at most 1.5 times the static load, and at most 30 ms
// more than it.
func BenchmarkDirenvLoad(b *testing.B) {
	m := newMonorepo(b)
	backend := filepath.Join(m.repo, "backend")
	loaded := m.execEnv(backend) // evaluates once; every load below is a hit

	static := filepath.Join(m.root, "static")
	require.NoError(b, os.Mkdir(static, 0o755))
	m.writeEnvrc(static, staticEnvrc(parseEnv0(m.run(m.root, "env", "-0")), loaded))
	require.Equal(b, loaded["BACKEND_PORT"], m.execEnv(static)["BACKEND_PORT"], "the static .envrc exports the same variables")

	const samples = 40
	nixBefore := m.nixRuns(b)
	b.ResetTimer()
	var staticTimes, monoflakeTimes []time.Duration
	for i := 0; i < b.N; i++ {
		for j := 0; j < samples; j++ {
			staticTimes = append(staticTimes, m.timeLoad(b, static))
			monoflakeTimes = append(monoflakeTimes, m.timeLoad(b, backend))
		}
	}
	b.StopTimer()
	require.Equal(b, nixBefore, m.nixRuns(b), "every load was a cache hit")

	staticMS, monoflakeMS := medianMS(staticTimes), medianMS(monoflakeTimes)
	ratio, added := monoflakeMS/staticMS, monoflakeMS-staticMS
	b.ReportMetric(staticMS, "static-ms/load")
	b.ReportMetric(monoflakeMS, "monoflake-ms/load")
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(added, "added-ms")
	b.Logf("direnv load of backend on a cache hit: use monoflake %.1f ms, static .envrc %.1f ms, ratio %.2f, added %.1f ms (medians of %d loads each)",
		monoflakeMS, staticMS, ratio, added, len(staticTimes))
	if ratio > 1.5 || added > 30 {
		b.Errorf("use monoflake is over budget: ratio %.2f (at most 1.5), added %.1f ms (at most 30)", ratio, added)
	}
}

// staticEnvrc exports every variable that differs between base and loaded,
// except direnv's own bookkeeping, as a hand-written .envrc would.
func staticEnvrc(base, loaded map[string]string) string {
	var names []string
	for name, value := range loaded {
		if strings.HasPrefix(name, "DIRENV_") {
			continue
		}
		if old, ok := base[name]; !ok || old != value {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		b.WriteString("export " + name + "=" + Quote(loaded[name]) + "\n")
	}
	return b.String()
}

// timeLoad times one `direnv exec DIR true`: direnv evaluating DIR's .envrc
// and applying the result.
func (m *monorepo) timeLoad(b *testing.B, dir string) time.Duration {
	b.Helper()
	cmd := m.command(dir, "direnv", "exec", dir, "true")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	elapsed := time.Since(start)
	require.NoError(b, err, "%s", out)
	return elapsed
}

func medianMS(times []time.Duration) float64 {
	sorted := slices.Clone(times)
	slices.Sort(sorted)
	return float64(sorted[len(sorted)/2]) / float64(time.Millisecond)
}
