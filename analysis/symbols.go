package analysis

import (
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// SymbolKind says what a symbol is.
type SymbolKind uint8

// Symbol kinds.
const (
	SymbolCategory SymbolKind = iota + 1 // packages, devShells, ...
	SymbolOutput                         // one output
)

// Symbol is an output (or a category grouping outputs) for outlines and
// workspace search.
type Symbol struct {
	Name      string
	Detail    string // component, or category for grouped symbols
	Kind      SymbolKind
	Loc       Location    // the whole extent
	Selection syntax.Span // the name
	Children  []Symbol
	Category  string
}

// DocumentSymbols returns the outputs a file defines, nested by category,
// in source order.
func DocumentSymbols(s *Snapshot, file string) []Symbol {
	var out []Symbol
	index := map[string]int{}
	for _, o := range s.model.defsIn[filepath.Clean(file)] {
		i, ok := index[o.Category]
		if !ok {
			i = len(out)
			index[o.Category] = i
			out = append(out, Symbol{Name: o.Category, Kind: SymbolCategory, Loc: o.Def, Selection: o.Def.Span, Category: o.Category})
		}
		g := &out[i]
		g.Children = append(g.Children, Symbol{Name: o.Name, Detail: o.Component, Kind: SymbolOutput, Loc: o.Def, Selection: o.Def.Span, Category: o.Category})
		g.Loc.Span.Start = min(g.Loc.Span.Start, o.Def.Span.Start)
		g.Loc.Span.End = max(g.Loc.Span.End, o.Def.Span.End)
		g.Selection = g.Loc.Span
	}
	for i := range out {
		sort.Slice(out[i].Children, func(a, b int) bool {
			return out[i].Children[a].Loc.Span.Start < out[i].Children[b].Loc.Span.Start
		})
	}
	return out
}

// WorkspaceSymbols returns the outputs matching query, best first, at most
// limit (0: no limit). Matching is fuzzy: the query's characters must appear
// in order in "category.name" or the component's name, case-insensitively;
// contiguous runs, word starts and a match on the name itself rank higher.
func WorkspaceSymbols(s *Snapshot, query string, limit int) []Symbol {
	type scored struct {
		o     *Output
		score int
	}
	var hits []scored
	q := strings.ToLower(query)
	for _, o := range s.model.outputs {
		best, ok := fuzzyScore(q, o.Name)
		if sc, ok2 := fuzzyScore(q, o.Key()); ok2 && (!ok || sc-5 > best) {
			best, ok = sc-5, true
		}
		if sc, ok2 := fuzzyScore(q, o.Component); ok2 && (!ok || sc-10 > best) {
			best, ok = sc-10, true
		}
		if ok {
			hits = append(hits, scored{o, best})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].score != hits[j].score {
			return hits[i].score > hits[j].score
		}
		if len(hits[i].o.Name) != len(hits[j].o.Name) {
			return len(hits[i].o.Name) < len(hits[j].o.Name)
		}
		return hits[i].o.Key() < hits[j].o.Key()
	})
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit]
	}
	out := make([]Symbol, len(hits))
	for i, h := range hits {
		out[i] = Symbol{Name: h.o.Name, Detail: h.o.Category + " · " + h.o.Component, Kind: SymbolOutput, Loc: h.o.Def, Selection: h.o.Def.Span, Category: h.o.Category}
	}
	return out
}

// fuzzyScore matches a lower-case query as a subsequence of s.
func fuzzyScore(q, s string) (int, bool) {
	if q == "" {
		return 0, true
	}
	score, qi, run := 0, 0, 0
	prev := rune(0)
	for i, r := range strings.ToLower(s) {
		if qi < len(q) && byte(r) == q[qi] {
			qi++
			run++
			score += 1 + run*2
			if i == 0 || !unicode.IsLetter(prev) && !unicode.IsDigit(prev) {
				score += 5 // a word start
			}
		} else {
			run = 0
		}
		prev = r
	}
	if qi < len(q) {
		return 0, false
	}
	if strings.EqualFold(q, s) {
		score += 50
	} else if strings.HasPrefix(strings.ToLower(s), q) {
		score += 20
	}
	return score - len(s)/4, true
}
