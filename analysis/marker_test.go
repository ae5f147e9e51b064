package analysis

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/monoflake/monoflake/analysis/analysistest"
	"github.com/monoflake/monoflake/analysis/syntax"
)

// Marker tests: each testdata/*.txtar archive is a small repository whose
// Nix comments carry expectations, so a new case is a few lines of data.
//
//	# @mark(ID, "needle")    names the first occurrence of needle on this line
//	# @def(FROM, TO)         Definition at FROM is TO (TO may be file:PATH)
//	# @refs(ID, A, B, ...)   References at ID, declarations included, are A, B, ...
//	# @diag(code, "needle")  a diagnostic with this code at needle on this line
//
// Every diagnostic of the repository must be expected by a @diag marker.

type markerCase struct {
	marks map[string]Location
	defs  [][2]string
	refs  [][]string
	diags []diagWant
}

type diagWant struct {
	code string
	loc  Location
}

func TestMarkers(t *testing.T) {
	archives, err := filepath.Glob("testdata/*.txtar")
	require.NoError(t, err)
	require.NotEmpty(t, archives)
	for _, archive := range archives {
		t.Run(strings.TrimSuffix(filepath.Base(archive), ".txtar"), func(t *testing.T) {
			root := extractArchive(t, archive)
			s, err := Load(context.Background(), root)
			require.NoError(t, err)
			mc := readMarkers(t, s)
			for _, d := range mc.defs {
				from := mc.marks[d[0]]
				var want []Location
				if strings.HasPrefix(d[1], "file:") {
					want = []Location{{File: filepath.Join(root, strings.TrimPrefix(d[1], "file:"))}}
				} else {
					want = []Location{mc.marks[d[1]]}
				}
				require.Equal(t, want, Definition(s, from.File, from.Span.Start), "@def(%s, %s)", d[0], d[1])
			}
			for _, r := range mc.refs {
				at := mc.marks[r[0]]
				var want []Location
				for _, id := range r[1:] {
					loc, ok := mc.marks[id]
					require.True(t, ok, "unknown mark %s", id)
					want = append(want, loc)
				}
				sortLocations(want)
				require.Equal(t, want, References(s, at.File, at.Span.Start, true), "@refs(%s)", strings.Join(r, ", "))
			}
			got := map[string]bool{}
			for _, d := range s.AllDiagnostics() {
				got[d.Code+"@"+d.Loc.File+":"+itoa(d.Loc.Span.Start)] = true
			}
			for _, w := range mc.diags {
				key := w.code + "@" + w.loc.File + ":" + itoa(w.loc.Span.Start)
				require.True(t, got[key], "expected diagnostic %s at %s:%d; got %v", w.code, relPath(root, w.loc.File), w.loc.Span.Start, s.AllDiagnostics())
				delete(got, key)
			}
			require.Empty(t, got, "unexpected diagnostics: %v", s.AllDiagnostics())
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// extractArchive writes an archive to a temp dir and returns the root.
func extractArchive(t *testing.T, archive string) string {
	root, _ := analysistest.WriteArchive(t, archive)
	return root
}

func readMarkers(t *testing.T, s *Snapshot) markerCase {
	mc := markerCase{marks: map[string]Location{}}
	for _, p := range s.Files() {
		for _, d := range analysistest.Directives(string(s.File(p).Tree.Src)) {
			find := func(needle string) Location {
				start, end, ok := d.Find(needle)
				require.True(t, ok, "%s: needle %q not on line %q", p, needle, d.Code)
				return Location{File: p, Span: syntax.Span{Start: start, End: end}}
			}
			switch d.Name {
			case "mark":
				mc.marks[d.Args[0]] = find(d.Args[1])
			case "def":
				mc.defs = append(mc.defs, [2]string{d.Args[0], d.Args[1]})
			case "refs":
				mc.refs = append(mc.refs, d.Args)
			case "diag":
				loc := Location{File: p, Span: syntax.Span{Start: d.LineStart, End: d.LineStart}}
				if len(d.Args) > 1 {
					loc = find(d.Args[1])
				}
				mc.diags = append(mc.diags, diagWant{code: d.Args[0], loc: loc})
			}
		}
	}
	return mc
}
