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

// codeUntrackedPath is the code of the diagnostic on a path that exists
// but that git does not track, so flake evaluation cannot see it.
const codeUntrackedPath = "untracked-path"

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
	case codeUntrackedPath:
		a, ok = s.trackPath(d)
	}
	if !ok {
		return nil
	}
	a.Fixes = []Diagnostic{d}
	return []Action{a}
}

// reference returns the indexed reference a diagnostic is about.
func (s *Snapshot) reference(d Diagnostic) (*Reference, bool) {
	f := s.files[d.Loc.File]
	if f == nil || f.facts == nil {
		return nil, false
	}
	for i := range f.facts.refs {
		if r := &f.facts.refs[i]; r.Loc == d.Loc {
			return r, true
		}
	}
	return nil, false
}

// suggestOutput replaces a misspelled output name with the close match
// the diagnostic suggests.
func (s *Snapshot) suggestOutput(d Diagnostic) (Action, bool) {
	r, ok := s.reference(d)
	if !ok || r.Kind != OutputRef {
		return Action{}, false
	}
	_, owner, _ := s.model.lookup(s, *r)
	var names []string
	for k := range s.model.defs {
		if k.component == owner && k.category == r.Category {
			names = append(names, k.name)
		}
	}
	best := closest(r.Name, names)
	if best == "" {
		return Action{}, false
	}
	text := best
	if !validName.MatchString(best) {
		text = fmt.Sprintf("%q", best)
	}
	return Action{
		Title:     fmt.Sprintf("Change %s to %s", r.Name, best),
		Preferred: true,
		Edits:     map[string][]TextEdit{r.Loc.File: {{Span: r.Loc.Span, NewText: text}}},
	}, true
}

// pathLiteral matches what Nix reads as a path literal without quoting.
var pathLiteral = regexp.MustCompile(`^\.\.?/[A-Za-z0-9._+/-]+$`)

// importOrphan adds a module nothing imports to the imports list it most
// likely belongs to (see importScore).
func (s *Snapshot) importOrphan(d Diagnostic) (Action, bool) {
	orphan := d.Loc.File
	type candidate struct {
		file  string
		list  syntax.Node
		score importScore
	}
	var best *candidate
	for _, p := range s.Files() {
		f := s.files[p]
		if !s.model.reachable[p] || f.facts == nil || f.Tree == nil {
			continue
		}
		for _, v := range f.facts.importValues {
			list := listIn(f.Tree, v)
			if !list.Valid() {
				continue
			}
			c := candidate{file: p, list: list, score: s.importScore(p, f.facts.imports, v, orphan)}
			if best == nil || c.score.better(best.score) {
				best = &c
			}
		}
	}
	if best == nil {
		return Action{}, false
	}
	rel, err := filepath.Rel(filepath.Dir(best.file), orphan)
	if err != nil {
		return Action{}, false
	}
	if !strings.HasPrefix(rel, "../") {
		rel = "./" + rel
	}
	if !pathLiteral.MatchString(rel) {
		return Action{}, false
	}
	return Action{
		Title: fmt.Sprintf("Import %s in %s", relPath(s.Root, orphan), relPath(s.Root, best.file)),
		Edits: map[string][]TextEdit{best.file: {appendToList(best.list, rel)}},
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

func (s *Snapshot) importScore(importer string, imports []moduleImport, list syntax.Span, orphan string) importScore {
	dir := filepath.Dir(importer)
	sc := importScore{importer: importer, above: contains(dir, orphan), nearness: strings.Count(dir, string(filepath.Separator))}
	for _, imp := range imports {
		if imp.Span.Start < list.Start || imp.Span.End > list.End {
			continue
		}
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

// listIn returns the list an `imports = ...` value adds its entries to:
// the value itself, else the last list inside it (`[ ... ] ++ [ ... ]`).
func listIn(t *syntax.Tree, value syntax.Span) syntax.Node {
	var found syntax.Node
	t.Root().Walk(func(n syntax.Node) bool {
		if n.End() < value.Start || n.Start() > value.End {
			return false
		}
		if n.Kind() == syntax.List && n.Start() >= value.Start && n.End() <= value.End {
			found = n
			return false
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
	r, ok := s.reference(d)
	if !ok || r.Kind != ImportRef || !s.inImportsList(d.Loc) {
		return Action{}, false
	}
	target := r.Target
	if !strings.HasSuffix(target, ".nix") {
		// Nix imports a directory through its default.nix.
		target = filepath.Join(target, "default.nix")
	}
	text := plainModuleTemplate
	if s.model.reachable[d.Loc.File] {
		text = flakeModuleTemplate
	}
	return Action{
		Title:  fmt.Sprintf("Create %s from a module template", relPath(s.Root, target)),
		Create: &NewFile{Path: target, Text: text},
	}, true
}

// inImportsList reports whether loc is inside the value of an `imports`
// binding.
func (s *Snapshot) inImportsList(loc Location) bool {
	f := s.files[loc.File]
	for _, v := range f.facts.importValues {
		if v.Start <= loc.Span.Start && loc.Span.End <= v.End {
			return true
		}
	}
	return false
}

// trackPath adds a path git does not track to its index, so that flake
// evaluation, which sees only tracked files, sees it.
func (s *Snapshot) trackPath(d Diagnostic) (Action, bool) {
	r, ok := s.reference(d)
	if !ok || r.Kind == OutputRef {
		return Action{}, false
	}
	return Action{
		Title:  fmt.Sprintf("Track %s in git (git add)", relPath(s.Root, r.Target)),
		GitAdd: r.Target,
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
