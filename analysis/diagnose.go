package analysis

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// Diagnostics, each with the certainty its severity needs (see STYLE.md):
// an error only where the model read everything that decides it.

func (m *model) diagnose(s *Snapshot) {
	add := m.adder(s)
	for _, p := range s.Files() {
		m.fileDiagnostics(s, s.files[p], add)
	}
	m.orphans(s, add)
	m.duplicates(add)
	for p := range m.diags {
		sortDiagnostics(m.diags[p])
	}
}

// adder returns the function that records a diagnostic unless the
// configuration silences its code.
func (m *model) adder(s *Snapshot) func(Diagnostic) {
	return func(d Diagnostic) {
		if !s.Config.disabled(d.Code) {
			m.diags[d.Loc.File] = append(m.diags[d.Loc.File], d)
		}
	}
}

func sortDiagnostics(ds []Diagnostic) {
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Loc.Span.Start < ds[j].Loc.Span.Start })
}

// fileDiagnostics adds what one file causes by itself: unreadable, syntax,
// parse-time problems, unknown outputs and missing or untracked paths.
func (m *model) fileDiagnostics(s *Snapshot, f *File, add func(Diagnostic)) {
	if f.Err != nil {
		add(Diagnostic{Loc: Location{File: f.Path}, Severity: SeverityWarning, Code: CodeUnreadable, Message: "cannot index this file: " + f.Err.Error()})
		return
	}
	for _, e := range f.facts.Syntax {
		sev := SeverityError
		if e.Unsupported {
			sev = SeverityInfo
		}
		add(Diagnostic{Loc: Location{File: f.Path, Span: e.Span}, Severity: sev, Code: CodeSyntax, Message: e.Message})
	}
	for _, d := range f.facts.Problems {
		add(d)
	}
	for i, r := range f.facts.Refs {
		if d, ok := m.unknownOutput(s, f.Path, r, m.lookup(f.Path, i)); ok {
			d.Loc.File = f.Path
			add(d)
		}
	}
	for _, p := range f.facts.Paths {
		if d, ok := m.pathDiagnostic(s, f, p); ok {
			add(d)
		}
	}
}

// unknownOutput reports a reference to an output nothing defines: an
// error when the category is closed, a warning with a close match when it
// is open, nothing otherwise.
func (m *model) unknownOutput(s *Snapshot, file string, r outputRef, res refResolution) (Diagnostic, bool) {
	if r.Guarded || res.key.category == "" || len(res.defs) > 0 {
		return Diagnostic{}, false
	}
	k := res.key
	standard := perSystemCategories[k.category]
	c := m.cats[catKey{k.flake, k.perSys, k.category}]
	what := k.category
	if r.Input != "" {
		what = "inputs'." + r.Input + "." + what
		if r.Base == baseInput {
			what = "inputs." + r.Input + "." + k.category
		}
	}
	var names []string
	switch {
	case k.name == "":
		// self.custom: the category itself is unknown.
		if standard || c != nil {
			return Diagnostic{}, false
		}
		for ck := range m.cats {
			if ck.flake == k.flake && ck.perSys == k.perSys {
				names = append(names, ck.category)
			}
		}
		return m.unknown(r, res, "unknown output "+what, r.Category, names, m.flakeClosed(k.flake))
	case !standard && !(c != nil && c.declared):
		// A custom output: only its first level is checked.
		if c != nil {
			return Diagnostic{}, false
		}
		for ck := range m.cats {
			if ck.flake == k.flake && ck.perSys == k.perSys {
				names = append(names, ck.category)
			}
		}
		d, ok := m.unknown(r, res, "unknown output "+what, r.Category, names, m.flakeClosed(k.flake))
		d.Loc.Span = r.CatSpan
		return d, ok
	}
	for dk := range m.defs {
		if dk.flake == k.flake && dk.perSys == k.perSys && dk.category == k.category && dk.name != "" {
			names = append(names, dk.name)
		}
	}
	closed := m.flakeClosed(k.flake) && (c == nil || c.closed)
	return m.unknown(r, res, "unknown output "+what+"."+r.Name, r.Name, names, closed)
}

func (m *model) flakeClosed(id int) bool { return len(m.flakes[id].open) == 0 }

// unknown makes the diagnostic: an error when closed and the reference
// surely means this flake, a warning with a suggestion otherwise.
func (m *model) unknown(r outputRef, res refResolution, msg, name string, candidates []string, closed bool) (Diagnostic, bool) {
	best := closest(name, candidates)
	d := Diagnostic{Loc: Location{Span: r.Span}, Code: CodeUnknownOutput, Message: msg}
	if best != "" {
		d.Message += " (did you mean " + best + "?)"
	}
	switch {
	case closed && res.known:
		d.Severity = SeverityError
	case best != "" && res.known:
		d.Severity = SeverityWarning
	default:
		return d, false
	}
	return d, true
}

// pathDiagnostic reports a path that is read but does not exist (or that
// git does not track, so a flake's copy lacks it).
func (m *model) pathDiagnostic(s *Snapshot, f *File, p pathFact) (Diagnostic, bool) {
	if !p.Read || p.Optional {
		return Diagnostic{}, false
	}
	target := p.Target
	if p.FromSelf {
		fls, _ := m.flakesOfRef(s, f.Path, outputRef{Module: m.selfModule(f), Bound: boundByFlake})
		if len(fls) == 0 {
			return Diagnostic{}, false
		}
		target = filepath.Join(fls[0].dir, target)
	}
	if !isUnder(target, s.Root) || target == s.Root {
		return Diagnostic{}, false // outside the repository: not the model's to check
	}
	if p.Import {
		target = m.moduleFile(s, target)
	}
	if s.fs.Exists(target) {
		// A flake's evaluation reads git's tracked files only.
		if !s.fs.Git() || s.fs.Tracked(target) || s.fs.IsDir(target) || !m.evaluated[f.Path] {
			return Diagnostic{}, false
		}
		if s.fs.Ignored(target) {
			return Diagnostic{Loc: Location{File: f.Path, Span: p.Span}, Severity: SeverityInfo, Code: CodeIgnoredPath,
				Message: relPath(s.Root, target) + " is ignored by git, so flake evaluation cannot see it"}, true
		}
		return Diagnostic{Loc: Location{File: f.Path, Span: p.Span}, Severity: SeverityWarning, Code: CodeUntrackedPath,
			Message: relPath(s.Root, target) + " is not tracked by git, so flake evaluation cannot see it; git add it"}, true
	}
	if m.expected(s, f, target) {
		return Diagnostic{}, false
	}
	// Only an import in a file some flake's evaluation reads surely
	// fails: the module or value imported is needed to know the file's
	// value. A file's contents (readFile, src) are read only when the
	// value is used, which Nix's laziness may never do; and elsewhere (a
	// test fixture, an example, a file a harness fills in) the path may be
	// meant to appear first.
	sev := SeverityError
	if !m.evaluated[f.Path] || !p.Import {
		sev = SeverityWarning
	}
	return Diagnostic{Loc: Location{File: f.Path, Span: p.Span}, Severity: sev, Code: CodeMissingPath,
		Message: relPath(s.Root, target) + " does not exist"}, true
}

// selfModule is the module of the file whose self a `self + /x` uses.
func (m *model) selfModule(f *File) int {
	if f.facts.Flake != nil {
		return -1
	}
	if f.facts.Self >= 0 {
		return f.facts.Self
	}
	return -2
}

// expected reports a missing path the repository means to be created:
// a file its configuration writes (files."name"), or anything inside a
// template, which its user fills in.
func (m *model) expected(s *Snapshot, f *File, target string) bool {
	for _, c := range f.facts.Created {
		if filepath.Join(filepath.Dir(f.Path), c) == target {
			return true
		}
	}
	for _, p := range s.Files() {
		g := s.files[p]
		if g.facts == nil {
			continue
		}
		for _, t := range g.facts.Templates {
			if isUnder(f.Path, t) {
				return true
			}
		}
	}
	return false
}

// orphans reports module files no flake imports, when the flakes' module
// lists are all read: then a module nothing imports defines nothing.
func (m *model) orphans(s *Snapshot, add func(Diagnostic)) {
	root := filepath.Join(s.Root, "flake.nix")
	var rootFlake *flake
	for _, fl := range m.flakes {
		if !fl.inner && fl.file == root {
			rootFlake = fl
		}
		if !fl.inner && len(fl.open) > 0 {
			return
		}
	}
	if rootFlake == nil || rootFlake.root == nil {
		return
	}
	named := map[string]bool{}
	for _, p := range s.Files() {
		f := s.files[p]
		if f.facts == nil {
			continue
		}
		for _, pf := range f.facts.Paths {
			named[m.moduleFile(s, pf.Target)] = true
			named[pf.Target] = true
		}
		for _, c := range f.facts.Calls {
			named[m.moduleFile(s, c.Target)] = true
		}
	}
	for _, p := range s.Files() {
		f := s.files[p]
		if f.facts == nil || f.facts.Self < 0 || named[p] || m.imported[p] || filepath.Base(p) == "flake.nix" {
			continue
		}
		if len(m.moduleFlakes[moduleID{p, f.facts.Self}]) > 0 {
			continue
		}
		mod := f.facts.Modules[f.facts.Self]
		if len(mod.PerSystem.Names) == 0 && len(mod.Flake.Names) == 0 {
			continue // not shaped like a flake module
		}
		if c := m.nearest(p); c != nil && c.SubFlake {
			continue
		}
		add(Diagnostic{Loc: Location{File: p}, Severity: SeverityWarning, Code: CodeOrphanModule,
			Message: "this module is not imported by the flake, so its outputs do not exist; add it to an imports list"})
	}
}

// duplicates reports an output two modules define (flake-parts refuses
// it); definitions that may not exist (conditional, optionally imported)
// and overrides with // never count.
func (m *model) duplicates(add func(Diagnostic)) {
	for k, defs := range m.defs {
		if k.name == "" || !uniqueCategories[k.category] || !k.perSys {
			continue
		}
		// Partitions are evaluated apart: a name in two of them is not a
		// conflict.
		byPartition := map[string][]*Output{}
		for _, d := range defs {
			if !d.maybe && !d.derived && d.module.index >= 0 {
				byPartition[d.partition] = append(byPartition[d.partition], d)
			}
		}
		for _, sure := range byPartition {
			m.duplicatesIn(k, sure, add)
		}
	}
}

// uniqueCategories hold values (packages) that flake-parts cannot merge,
// so two definitions of a name conflict; options such as apps or custom
// ones may merge.
var uniqueCategories = map[string]bool{Packages: true, DevShells: true, Checks: true}

func (m *model) duplicatesIn(k outputKey, sure []*Output, add func(Diagnostic)) {
	{
		modules := map[moduleID]bool{}
		for _, d := range sure {
			modules[d.module] = true
		}
		if len(modules) < 2 {
			return
		}
		for _, d := range sure {
			var others []string
			for _, o := range sure {
				if o != d && o.module != d.module {
					others = append(others, o.Component)
				}
			}
			where := "also defined by component " + strings.Join(others, ", ")
			if len(others) > 0 && others[0] == d.Component {
				where = "also defined elsewhere in this component"
			}
			add(Diagnostic{Loc: d.Def, Severity: SeverityError, Code: CodeDuplicateOutput,
				Message: fmt.Sprintf("output %s.%s is %s", k.category, k.name, where)})
		}
	}
}

func relPath(root, p string) string {
	if rel, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}

// closest returns the candidate nearest to name by edit distance, if it is
// near enough to be a plausible typo.
func closest(name string, candidates []string) string {
	sort.Strings(candidates)
	best, bestDist := "", max(2, len(name)/3)+1
	for _, c := range candidates {
		if c == name {
			continue
		}
		if d := editDistance(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance over bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
