package analysis

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

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

var markerRe = regexp.MustCompile(`@(mark|def|refs|diag)\(([^)]*)\)`)

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

func spanOf(start, n int) syntax.Span { return syntax.Span{Start: start, End: start + n} }

// extractArchive writes a txtar archive ("-- path --" headers) to a temp dir.
func extractArchive(t *testing.T, archive string) string {
	data, err := os.ReadFile(archive)
	require.NoError(t, err)
	root := t.TempDir()
	var name string
	var body []string
	flush := func() {
		if name == "" {
			return
		}
		p := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(strings.Join(body, "\n")), 0o644))
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "-- ") && strings.HasSuffix(line, " --") {
			flush()
			name, body = strings.TrimSuffix(strings.TrimPrefix(line, "-- "), " --"), nil
			continue
		}
		if name != "" {
			body = append(body, line)
		}
	}
	flush()
	return root
}

func readMarkers(t *testing.T, s *Snapshot) markerCase {
	mc := markerCase{marks: map[string]Location{}}
	for _, p := range s.Files() {
		src := s.File(p).Tree.Src
		lineStart := 0
		for _, line := range strings.SplitAfter(string(src), "\n") {
			code, comment, _ := strings.Cut(line, "#")
			for _, m := range markerRe.FindAllStringSubmatch(comment, -1) {
				args := splitArgs(m[2])
				find := func(needle string) Location {
					i := strings.Index(code, needle)
					require.GreaterOrEqual(t, i, 0, "%s: needle %q not on line %q", p, needle, line)
					// A needle names the identifier it starts with ("api;"
					// marks api), or the whole needle for paths.
					n := len(needle)
					if isIdentByte(needle[0]) {
						n = 0
						for i+n < len(code) && isIdentByte(code[i+n]) {
							n++
						}
					}
					return Location{File: p, Span: spanOf(lineStart+i, n)}
				}
				switch m[1] {
				case "mark":
					mc.marks[args[0]] = find(args[1])
				case "def":
					mc.defs = append(mc.defs, [2]string{args[0], args[1]})
				case "refs":
					mc.refs = append(mc.refs, args)
				case "diag":
					loc := Location{File: p, Span: spanOf(lineStart, 0)}
					if len(args) > 1 {
						loc = find(args[1])
					}
					mc.diags = append(mc.diags, diagWant{code: args[0], loc: loc})
				}
			}
			lineStart += len(line)
		}
	}
	return mc
}

func isIdentByte(b byte) bool {
	return b == '_' || b == '\'' || b == '-' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

func splitArgs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		out = append(out, strings.Trim(strings.TrimSpace(a), `"`))
	}
	return out
}
