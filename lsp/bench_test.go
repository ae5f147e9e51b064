package lsp

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/tools/genrepo"
)

// Benchmarks over the protocol on a synthetic monorepo of 5,000
// components (MONOFLAKE_BENCH_COMPONENTS overrides the size). Each reports
// the p50 and p99 latency of one request, as a client sees it over a pipe.
//
//	go test ./lsp -run '^$' -bench . -benchtime 300x

func benchComponents() int {
	if n, err := strconv.Atoi(os.Getenv("MONOFLAKE_BENCH_COMPONENTS")); err == nil && n > 0 {
		return n
	}
	return 5000
}

// benchRepo generates the synthetic monorepo into a temp dir.
func benchRepo(b *testing.B) *genrepo.Repo {
	b.Helper()
	dir, err := filepath.EvalSymlinks(b.TempDir())
	require.NoError(b, err)
	repo, err := genrepo.Generate(filepath.Join(dir, "repo"), genrepo.Options{Components: benchComponents(), Fixture: filepath.Join("..", "testdata", "monorepo")})
	require.NoError(b, err)
	return repo
}

// latencies collects durations and reports percentiles.
type latencies []time.Duration

func (l latencies) report(b *testing.B, what string) {
	if len(l) == 0 {
		return
	}
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	pct := func(p float64) time.Duration { return l[min(len(l)-1, int(float64(len(l))*p))] }
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	b.Logf("%s over %d samples: p50 %v, p90 %v, p99 %v, max %v", what, len(l), pct(0.5), pct(0.9), pct(0.99), l[len(l)-1])
}

// benchSession starts a server on the repository and waits until it is
// indexed (its first answer to workspace/symbol).
func benchSession(b *testing.B, root string) *testClient {
	b.Helper()
	c := newTestClient(b, Options{})
	c.initialize(nil, root)
	var syms []protocol.SymbolInformation
	c.mustCall("workspace/symbol", protocol.WorkspaceSymbolParams{Query: "c0001"}, &syms)
	return c
}

// referenceIn returns a file of the repository holding a reference to
// another component, and the position of the reference.
func referenceIn(b *testing.B, repo *genrepo.Repo) (string, string, protocol.Position) {
	for _, comp := range repo.Components {
		if len(comp.Dependencies) == 0 {
			continue
		}
		path := filepath.Join(repo.Root, comp.Name, "nix", "outputs.nix")
		data, err := os.ReadFile(path)
		require.NoError(b, err)
		needle := "self'.packages." + comp.Dependencies[0]
		if i := strings.Index(string(data), needle); i >= 0 {
			return path, string(data), lspPosition(string(data), i+len("self'.packages."))
		}
	}
	b.Fatal("no component references another")
	return "", "", protocol.Position{}
}

func BenchmarkNavigation(b *testing.B) {
	repo := benchRepo(b)
	c := benchSession(b, repo.Root)
	path, _, pos := referenceIn(b, repo)
	at := protocol.TextDocumentPositionParams{TextDocument: protocol.TextDocumentIdentifier{URI: pathToURI(path)}, Position: pos}
	requests := []struct {
		method string
		params any
	}{
		{"textDocument/definition", protocol.DefinitionParams{TextDocumentPositionParams: at}},
		{"textDocument/references", protocol.ReferenceParams{TextDocumentPositionParams: at, Context: protocol.ReferenceContext{IncludeDeclaration: true}}},
		{"textDocument/hover", protocol.HoverParams{TextDocumentPositionParams: at}},
	}
	for _, r := range requests {
		b.Run(strings.TrimPrefix(r.method, "textDocument/"), func(b *testing.B) {
			var l latencies
			for i := 0; i < b.N; i++ {
				var result any
				start := time.Now()
				c.mustCall(r.method, r.params, &result)
				l = append(l, time.Since(start))
				if result == nil {
					b.Fatalf("%s found nothing", r.method)
				}
			}
			l.report(b, r.method)
		})
	}
}

func BenchmarkWorkspaceSymbol(b *testing.B) {
	repo := benchRepo(b)
	c := benchSession(b, repo.Root)
	queries := []string{"c0042", "c12", "shell", "pkgs", "c4"}
	var l latencies
	for i := 0; i < b.N; i++ {
		var syms []protocol.SymbolInformation
		start := time.Now()
		c.mustCall("workspace/symbol", protocol.WorkspaceSymbolParams{Query: queries[i%len(queries)]}, &syms)
		l = append(l, time.Since(start))
	}
	l.report(b, "workspace/symbol")
}

// BenchmarkDidChangeDiagnostics times an edit of a 50 KB file until the
// diagnostics for its new version arrive: typing in a string (the model's
// shape stays, the common keystroke) and breaking and fixing a reference
// to another component (the model re-resolves, every other edit changes
// the diagnostics).
func BenchmarkDidChangeDiagnostics(b *testing.B) {
	repo := benchRepo(b)
	c := benchSession(b, repo.Root)
	path, text, _ := referenceIn(b, repo)
	var pad strings.Builder
	for i := 0; pad.Len()+len(text) < 50<<10; i++ {
		fmt.Fprintf(&pad, "# generated padding line %d of a large module, 火 🚀\n", i)
	}
	text = pad.String() + text
	c.notify("textDocument/didOpen", protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{URI: pathToURI(path), LanguageID: "nix", Version: 1, Text: text}})
	c.waitDiagnostics(path, func(p protocol.PublishDiagnosticsParams) bool { return p.Version == 1 })
	version := int32(1)
	edits := []struct {
		name   string
		needle string
		texts  [2]string
	}{
		{"typing", `description = "`, [2]string{"x", ""}},
		{"reference", "self'.packages.c", [2]string{"x", "c"}},
	}
	for _, e := range edits {
		b.Run(e.name, func(b *testing.B) {
			at := lspPosition(text, strings.Index(text, e.needle)+len(e.needle))
			var l latencies
			for n := 0; n < b.N; n++ {
				version++
				v := version
				// Insert after the needle, then take it out again (or
				// replace its last character back and forth).
				rng := protocol.Range{Start: at, End: at}
				if e.texts[1] != "" {
					rng.Start.Character--
				} else if n%2 == 1 {
					rng.End.Character++
				}
				start := time.Now()
				c.notify("textDocument/didChange", map[string]any{
					"textDocument":   map[string]any{"uri": pathToURI(path), "version": v},
					"contentChanges": []any{map[string]any{"range": rng, "text": e.texts[n%2]}},
				})
				c.waitDiagnostics(path, func(p protocol.PublishDiagnosticsParams) bool { return int32(p.Version) == v })
				l = append(l, time.Since(start))
			}
			if b.N%2 == 1 {
				// Leave the text as it was for the next edit kind.
				version++
				rng := protocol.Range{Start: at, End: at}
				if e.texts[1] != "" {
					rng.Start.Character--
				} else {
					rng.End.Character++
				}
				c.notify("textDocument/didChange", map[string]any{
					"textDocument":   map[string]any{"uri": pathToURI(path), "version": version},
					"contentChanges": []any{map[string]any{"range": rng, "text": e.texts[1]}},
				})
			}
			l.report(b, "didChange to publishDiagnostics, "+e.name)
		})
	}
	// Typing a reference's name: ten edits that each change what the file
	// references, sent as fast as a client sends keystrokes, then the
	// diagnostics of the last one.
	b.Run("burst", func(b *testing.B) {
		at := lspPosition(text, strings.Index(text, "self'.packages.c")+len("self'.packages.c"))
		var l latencies
		for n := 0; n < b.N; n++ {
			start := time.Now()
			for k := 0; k < 10; k++ {
				version++
				rng := protocol.Range{Start: at, End: at}
				newText := "x"
				if k%2 == 1 {
					rng.End.Character++
					newText = ""
				}
				c.notify("textDocument/didChange", map[string]any{
					"textDocument":   map[string]any{"uri": pathToURI(path), "version": version},
					"contentChanges": []any{map[string]any{"range": rng, "text": newText}},
				})
			}
			v := version
			c.waitDiagnostics(path, func(p protocol.PublishDiagnosticsParams) bool { return int32(p.Version) == v })
			l = append(l, time.Since(start))
		}
		l.report(b, "ten reference edits to publishDiagnostics of the last")
	})
}

// BenchmarkFirstDiagnostics compares a cold index (analysis.Load) with the
// time from initialize to the first diagnostics of an opened file.
func BenchmarkFirstDiagnostics(b *testing.B) {
	repo := benchRepo(b)
	path, _, _ := referenceIn(b, repo)
	var cold, first latencies
	for n := 0; n < b.N; n++ {
		start := time.Now()
		_, err := analysis.Load(context.Background(), repo.Root)
		require.NoError(b, err)
		cold = append(cold, time.Since(start))

		c := newTestClient(b, Options{})
		start = time.Now()
		c.initialize(nil, repo.Root)
		c.open(path)
		c.waitDiagnostics(path, func(protocol.PublishDiagnosticsParams) bool { return true })
		first = append(first, time.Since(start))
		require.NoError(b, c.shutdown())
	}
	sort.Slice(cold, func(i, j int) bool { return cold[i] < cold[j] })
	sort.Slice(first, func(i, j int) bool { return first[i] < first[j] })
	b.ReportMetric(float64(cold[len(cold)/2].Microseconds())/1000, "cold-index-ms")
	b.ReportMetric(float64(first[len(first)/2].Microseconds())/1000, "first-diagnostics-ms")
	b.ReportMetric(float64(first[len(first)/2])/float64(cold[len(cold)/2]), "first/cold")
	b.Logf("cold index p50 %v, initialize to first diagnostics p50 %v (%d samples)", cold[len(cold)/2], first[len(first)/2], len(cold))
}
