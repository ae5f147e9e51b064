package analysis

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// resolveInputs maps the path inputs of every flake.nix to components.
func (m *model) resolveInputs(s *Snapshot, rootFlake string) {
	byDir := map[string]*Component{}
	for _, c := range m.components {
		byDir[c.Dir] = c
	}
	for p, f := range s.files {
		if filepath.Base(p) != "flake.nix" || f.facts == nil {
			continue
		}
		for name, dir := range f.facts.pathInputs {
			if c := byDir[dir]; c != nil {
				if m.inputs[p] == nil {
					m.inputs[p] = map[string]*Component{}
				}
				m.inputs[p][name] = c
			}
		}
	}
}

// flakeOf returns the flake.nix governing a file and the owner key of the
// outputs `self` means there: the sub-flake component, or "" for the root.
func (m *model) flakeOf(s *Snapshot, file string) (flake, owner string) {
	if c := m.nearest(file); c != nil && c.SubFlake {
		return filepath.Join(c.Dir, "flake.nix"), c.Name
	}
	return filepath.Join(s.Root, "flake.nix"), ""
}

// lookup resolves an output reference. known is false when monoflake
// cannot judge (the input is not a path input of the repository, or the
// category is computed), in which case no diagnostic is due.
func (m *model) lookup(s *Snapshot, r Reference) (defs []*Output, owner string, known bool) {
	flake, owner := m.flakeOf(s, r.Loc.File)
	if r.Input != "" {
		c := m.inputs[flake][r.Input]
		if c == nil {
			return nil, "", false
		}
		owner = c.Name
	}
	if r.Category == Formatter {
		// formatter is a single output per system; its "name" is the
		// attribute after it (a package attribute), so look the category up.
		defs = m.defs[outputKey{owner, Formatter, Formatter}]
		return defs, owner, false
	}
	defs = m.defs[outputKey{owner, r.Category, r.Name}]
	return defs, owner, len(defs) > 0 || !m.open[owner][r.Category]
}

func (m *model) diagnose(s *Snapshot) {
	add := m.adder(s)
	deps := map[*Component]map[string]bool{}
	for p, f := range s.files {
		from := m.nearest(p)
		m.fileDiagnostics(s, f, add, func(k outputKey, r Reference, defs []*Output) {
			m.refsTo[k] = append(m.refsTo[k], r.Loc)
			for _, d := range defs {
				if from != nil && d.Component != from.Name {
					if deps[from] == nil {
						deps[from] = map[string]bool{}
					}
					deps[from][d.Component] = true
				}
			}
		})
	}
	for c, set := range deps {
		for name := range set {
			c.Deps = append(c.Deps, name)
		}
		sort.Strings(c.Deps)
	}
	m.orphans(s, add)
	for k, defs := range m.defs {
		duplicateDiagnostics(k, defs, add)
	}
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

// fileDiagnostics adds the diagnostics that one file causes by itself
// (unreadable, syntax, duplicate attributes, unknown outputs, missing paths)
// and reports each output reference it resolves.
func (m *model) fileDiagnostics(s *Snapshot, f *File, add func(Diagnostic), ref func(outputKey, Reference, []*Output)) {
	if f.Err != nil {
		add(Diagnostic{Loc: Location{File: f.Path}, Severity: SeverityWarning, Code: CodeUnreadable, Message: "cannot index this file: " + f.Err.Error()})
		return
	}
	for _, e := range f.Tree.Errors {
		sev := SeverityError
		if e.Unsupported {
			sev = SeverityInfo
		}
		add(Diagnostic{Loc: Location{File: f.Path, Span: e.Span}, Severity: sev, Code: CodeSyntax, Message: e.Message})
	}
	for _, d := range f.facts.dupAttrs {
		add(d)
	}
	for i, r := range f.facts.refs {
		if r.Kind != OutputRef {
			if f.missing[i] {
				add(Diagnostic{Loc: r.Loc, Severity: SeverityError, Code: CodeMissingPath, Message: fmt.Sprintf("%s does not exist", relPath(s.Root, r.Target))})
			}
			continue
		}
		defs, owner, known := m.lookup(s, r)
		if len(defs) == 0 && known {
			add(m.unknownOutput(r, owner))
		}
		ref(outputKey{owner, r.Category, r.Name}, r, defs)
	}
}

func (m *model) unknownOutput(r Reference, owner string) Diagnostic {
	what := r.Category + "." + r.Name
	if r.Input != "" {
		what = "inputs'." + r.Input + "." + what
	}
	msg := "unknown output " + what
	var names []string
	for k := range m.defs {
		if k.component == owner && k.category == r.Category {
			names = append(names, k.name)
		}
	}
	if best := closest(r.Name, names); best != "" {
		msg += " (did you mean " + best + "?)"
	}
	return Diagnostic{Loc: r.Loc, Severity: SeverityError, Code: CodeUnknownOutput, Message: msg}
}

// orphans reports component module files nothing imports. It only speaks
// when the flake's imports are explicit: with computed imports (import-tree,
// readDir) every file may be imported without being named.
func (m *model) orphans(s *Snapshot, add func(Diagnostic)) {
	if m.computed || !s.HasFlake {
		return
	}
	named := map[string]bool{}
	for _, f := range s.files {
		if f.facts == nil {
			continue
		}
		for _, r := range f.facts.refs {
			if r.Kind != OutputRef {
				named[moduleFile(r.Target)] = true
			}
		}
	}
	for p, f := range s.files {
		if m.reachable[p] || named[p] || f.facts == nil || filepath.Base(p) == "flake.nix" {
			continue
		}
		base := filepath.Base(p)
		if base != "outputs.nix" && base != "flake-module.nix" && !(f.facts.module && len(f.facts.outputs) > 0) {
			continue
		}
		if c := m.nearest(p); c != nil && c.SubFlake {
			continue
		}
		add(Diagnostic{Loc: Location{File: p}, Severity: SeverityWarning, Code: CodeOrphanModule,
			Message: "this module is not imported by the flake, so its outputs do not exist; add it to an imports list"})
	}
}

// duplicateDiagnostics reports an output defined more than once, at each
// definition.
func duplicateDiagnostics(k outputKey, defs []*Output, add func(Diagnostic)) {
	if len(defs) < 2 {
		return
	}
	for _, d := range defs {
		var others []string
		for _, o := range defs {
			if o != d {
				others = append(others, o.Component)
			}
		}
		where := "also defined by component " + strings.Join(others, ", ")
		if others[0] == d.Component {
			where = "also defined elsewhere in this component"
		}
		add(Diagnostic{Loc: d.Def, Severity: SeverityError, Code: CodeDuplicateOutput,
			Message: fmt.Sprintf("output %s.%s is %s", k.category, k.name, where)})
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
