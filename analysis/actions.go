package analysis

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// Action is a change that fixes diagnostics, as plain data for the
// language server's code actions and for the command line: edits of
// files, a file to create, or a file to add to git's index. Applying it is
// the caller's business; nothing here writes a file or runs git.
type Action struct {
	Title string
	// Preferred marks the one obvious fix, which editors may apply
	// without asking.
	Preferred bool
	Fixes     []Diagnostic          // what the action fixes
	Edits     map[string][]TextEdit // by file, sorted by position
	Create    *NewFile              // a file to create, or nil
	GitAdd    string                // a file to add to git's index, or ""
}

// NewFile is a file an action creates, with its content.
type NewFile struct {
	Path string
	Text string
}

// Actions returns the fixes of the diagnostics of file on the lines that
// span touches: editors ask with the cursor's position, and expect the
// fixes of what the line shows.
func Actions(s *Snapshot, file string, span syntax.Span) []Action {
	file = filepath.Clean(file)
	lines := s.File(file).Lines()
	if lines == nil {
		return nil
	}
	first, _ := lines.Position(span.Start)
	last, _ := lines.Position(span.End)
	lo, hi := lines.Offset(first, 0), lines.Offset(last, 1<<30)
	var out []Action
	for _, d := range s.Diagnostics(file) {
		if d.Loc.Span.End >= lo && d.Loc.Span.Start <= hi {
			out = append(out, ActionsFor(s, d)...)
		}
	}
	return out
}

// ActionsFor returns the fixes of one diagnostic: the command line's
// `check` calls it for each diagnostic it reports.
func ActionsFor(s *Snapshot, d Diagnostic) []Action {
	var a Action
	var ok bool
	switch d.Code {
	case CodeUnknownOutput:
		a, ok = s.suggestOutput(d)
	case CodeOrphanModule:
		a, ok = s.importOrphan(d)
	case CodeMissingPath:
		a, ok = s.createModule(d)
	case CodeUntrackedPath:
		a, ok = s.trackPath(d)
	}
	if !ok {
		return nil
	}
	a.Fixes = []Diagnostic{d}
	return []Action{a}
}

// pathAt returns the path of a file at exactly span.
func (s *Snapshot) pathAt(loc Location) (*File, *pathFact, bool) {
	f := s.files[loc.File]
	if f == nil || f.facts == nil {
		return nil, nil, false
	}
	for i := range f.facts.Paths {
		if p := &f.facts.Paths[i]; p.Span == loc.Span {
			return f, p, true
		}
	}
	return nil, nil, false
}

// didYouMean reads the close match the model puts in an unknown-output
// message, the one place it keeps it.
var didYouMean = regexp.MustCompile(`\(did you mean ([^ ()]+)\?\)$`)

// suggestOutput replaces a misspelled output name with the close match
// the diagnostic suggests.
func (s *Snapshot) suggestOutput(d Diagnostic) (Action, bool) {
	m := didYouMean.FindStringSubmatch(d.Message)
	f := s.files[d.Loc.File]
	if m == nil || f == nil || f.Tree() == nil || d.Loc.Span.End > len(f.Tree().Src) {
		return Action{}, false
	}
	best := m[1]
	text := best
	if !validName.MatchString(best) {
		text = fmt.Sprintf("%q", best)
	}
	return Action{
		Title:     fmt.Sprintf("Change %s to %s", f.Tree().Src[d.Loc.Span.Start:d.Loc.Span.End], best),
		Preferred: true,
		Edits:     map[string][]TextEdit{d.Loc.File: {{Span: d.Loc.Span, NewText: text}}},
	}, true
}

// pathLiteral matches what Nix reads as a path literal without quoting.
var pathLiteral = regexp.MustCompile(`^\.\.?/[A-Za-z0-9._+/-]+$`)

// importOrphan adds a module nothing imports to the imports list it most
// likely belongs to (see importScore), among the lists of the modules the
// flakes of the repository reach.
func (s *Snapshot) importOrphan(d Diagnostic) (Action, bool) {
	orphan := d.Loc.File
	lists := map[Location][]importFact{} // list node's location -> its file entries
	var order []Location
	seen := map[moduleID]bool{}
	for _, fl := range s.model.flakes {
		for _, rm := range fl.modules {
			f := s.files[rm.id.file]
			if fl.inner || seen[rm.id] || f == nil || f.facts == nil || f.Tree() == nil || rm.id.index >= len(f.facts.Modules) {
				continue
			}
			seen[rm.id] = true
			for _, imp := range f.facts.Modules[rm.id.index].Imports {
				list := enclosingList(f.Tree(), imp.Span)
				if imp.Kind != importFile || !list.Valid() {
					continue
				}
				loc := Location{File: f.Path, Span: list.Span()}
				if lists[loc] == nil {
					order = append(order, loc)
				}
				lists[loc] = append(lists[loc], imp)
			}
		}
	}
	var best Location
	var bestScore importScore
	for i, loc := range order {
		if sc := importScoreOf(loc.File, lists[loc], orphan); i == 0 || sc.better(bestScore) {
			best, bestScore = loc, sc
		}
	}
	if len(order) == 0 {
		return Action{}, false
	}
	rel, err := filepath.Rel(filepath.Dir(best.File), orphan)
	if err != nil {
		return Action{}, false
	}
	if !strings.HasPrefix(rel, "../") {
		rel = "./" + rel
	}
	if !pathLiteral.MatchString(rel) {
		return Action{}, false
	}
	list := enclosingList(s.files[best.File].Tree(), best.Span)
	return Action{
		Title: fmt.Sprintf("Import %s in %s", relPath(s.Root, orphan), relPath(s.Root, best.File)),
		Edits: map[string][]TextEdit{best.File: {appendToList(list, rel)}},
	}, true
}

// importScore ranks an imports list as the home of a module, criteria in
// order: the list's file sits above the module (modules are imported from
// above); the list imports a module whose directory shares the most
// leading directories with it; it imports more files named like it
// (outputs.nix beside outputs.nix); the list's file is nearer to it.
type importScore struct {
	above    bool
	shared   int
	sameName int
	nearness int
	importer string // for a stable choice between equals
}

func (a importScore) better(b importScore) bool {
	switch {
	case a.above != b.above:
		return a.above
	case a.shared != b.shared:
		return a.shared > b.shared
	case a.sameName != b.sameName:
		return a.sameName > b.sameName
	case a.nearness != b.nearness:
		return a.nearness > b.nearness
	}
	return a.importer < b.importer
}

func importScoreOf(importer string, entries []importFact, orphan string) importScore {
	dir := filepath.Dir(importer)
	sc := importScore{importer: importer, above: contains(dir, orphan), nearness: strings.Count(dir, string(filepath.Separator))}
	for _, imp := range entries {
		sc.shared = max(sc.shared, sharedDirs(filepath.Dir(imp.Target), filepath.Dir(orphan)))
		if filepath.Base(imp.Target) == filepath.Base(orphan) {
			sc.sameName++
		}
	}
	return sc
}

// contains reports whether path is dir or below it.
func contains(dir, path string) bool {
	return path == dir || strings.HasPrefix(path, dir+string(filepath.Separator))
}

// sharedDirs counts the leading directories two directories share.
func sharedDirs(a, b string) int {
	as, bs := strings.Split(a, string(filepath.Separator)), strings.Split(b, string(filepath.Separator))
	n := 0
	for n < len(as) && n < len(bs) && as[n] == bs[n] {
		n++
	}
	return n
}

// enclosingList returns the list an imports entry at span is written in
// (a list node's own span gives the list itself), or an invalid node.
func enclosingList(t *syntax.Tree, span syntax.Span) syntax.Node {
	var found syntax.Node
	t.Root().Walk(func(n syntax.Node) bool {
		if n.End() < span.Start || n.Start() > span.End {
			return false
		}
		if n.Kind() == syntax.List && n.Start() <= span.Start && span.End <= n.End() {
			found = n // the innermost wins: the walk goes down
		}
		return true
	})
	return found
}

// appendToList adds entry at the end of a list, on a line of its own when
// the list puts its entries on lines of their own.
func appendToList(list syntax.Node, entry string) TextEdit {
	elems := list.Children(syntax.FieldElement)
	if len(elems) == 0 {
		return TextEdit{Span: list.Span(), NewText: "[ " + entry + " ]"}
	}
	last := elems[len(elems)-1]
	lines := list.Tree().Lines
	lastLine, _ := lines.Position(last.Start())
	openLine, _ := lines.Position(list.Start())
	if lastLine == openLine {
		return TextEdit{Span: syntax.Span{Start: last.End(), End: last.End()}, NewText: " " + entry}
	}
	// After the rest of the last entry's line, so a comment there stays
	// with it.
	start := lines.Offset(lastLine, 0)
	end := lines.Offset(lastLine, 1<<30)
	src := list.Tree().Src
	indent := start
	for indent < end && (src[indent] == ' ' || src[indent] == '\t') {
		indent++
	}
	return TextEdit{Span: syntax.Span{Start: end, End: end}, NewText: "\n" + string(src[start:indent]) + entry}
}

// Module templates for createModule: a flake-parts module where the flake
// imports it, a plain module (NixOS, home-manager) elsewhere.
const (
	flakeModuleTemplate = "{ ... }:\n{\n  perSystem = { pkgs, ... }: {\n  };\n}\n"
	plainModuleTemplate = "{ ... }:\n{\n}\n"
)

// createModule creates a module that an imports list names but that does
// not exist.
func (s *Snapshot) createModule(d Diagnostic) (Action, bool) {
	f, p, ok := s.pathAt(d.Loc)
	if !ok || !p.Import || p.FromSelf {
		return Action{}, false
	}
	module, ok := importingModule(f, d.Loc.Span)
	if !ok {
		return Action{}, false
	}
	target := p.Target
	if !strings.HasSuffix(target, ".nix") {
		// Nix imports a directory through its default.nix.
		target = filepath.Join(target, "default.nix")
	}
	text := plainModuleTemplate
	if len(s.model.moduleFlakes[moduleID{f.Path, module}]) > 0 {
		text = flakeModuleTemplate
	}
	return Action{
		Title:  fmt.Sprintf("Create %s from a module template", relPath(s.Root, target)),
		Create: &NewFile{Path: target, Text: text},
	}, true
}

// importingModule returns the module of f whose imports list holds the
// path at span.
func importingModule(f *File, span syntax.Span) (int, bool) {
	for k, mod := range f.facts.Modules {
		for _, imp := range mod.Imports {
			if imp.Kind == importFile && imp.Span == span {
				return k, true
			}
		}
	}
	return 0, false
}

// trackPath adds a path git does not track to its index, so that flake
// evaluation, which sees only tracked files, sees it.
func (s *Snapshot) trackPath(d Diagnostic) (Action, bool) {
	f, p, ok := s.pathAt(d.Loc)
	if !ok {
		return Action{}, false
	}
	target := p.Target
	if p.FromSelf {
		fls, _ := s.model.flakesOfRef(s, f.Path, outputRef{Module: s.model.selfModule(f), Bound: boundByFlake})
		if len(fls) == 0 {
			return Action{}, false
		}
		target = filepath.Join(fls[0].dir, target)
	}
	if p.Import {
		target = s.model.moduleFile(s, target)
	}
	return Action{
		Title:  fmt.Sprintf("Track %s in git (git add)", relPath(s.Root, target)),
		GitAdd: target,
	}, true
}

// ApplyEdits returns src with edits applied; edits must not overlap. The
// command line uses it to apply an Action's edits to a file.
func ApplyEdits(src []byte, edits []TextEdit) []byte {
	sorted := append([]TextEdit(nil), edits...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Span.Start > sorted[j].Span.Start })
	out := append([]byte(nil), src...)
	for _, e := range sorted {
		out = append(out[:e.Span.Start], append([]byte(e.NewText), out[e.Span.End:]...)...)
	}
	return out
}
