package analysis

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// The model: everything resolved across files. resolve builds it from the
// facts of every file and the table of what exists on disk; it reads
// nothing else.

// moduleID names one module of one file.
type moduleID struct {
	file  string
	index int
}

// flake is one flake the repository defines: the root flake.nix, a
// sub-flake, or a flake built inside a file (mkFlake called outside a
// flake.nix's outputs, as test files do).
type flake struct {
	id   int
	file string // its flake.nix, or the file of an inner flake
	dir  string
	// root is the flake-parts (or adios-flake) module its outputs call,
	// if any; modules every module its tree reaches (perSystemBody marks
	// adios-flake per-system modules).
	root    *moduleID
	modules []reachedModule
	// open says why the flake's module list or outputs cannot be listed
	// completely; empty when every contributor was read.
	open []cause
	// inputs are its declared inputs; pathInputs those that are flakes of
	// this repository, by name.
	inputs     map[string]inputFact
	pathInputs map[string]*flake
	component  *Component // the sub-flake's component; nil for the root and inner flakes
	inner      bool
	// openCats are categories modules of inputs the model knows add to.
	openCats []catOpen
	// derives are the perSystem options of those modules that make an
	// output per name: process-compose.<name> makes packages.<name>.
	derives map[string]string
}

type catOpen struct {
	key   catKey
	cause cause
}

type reachedModule struct {
	id moduleID
	// body marks an adios-flake module: its own attributes are per-system
	// outputs.
	body bool
	// maybe marks modules that may not be imported (lib.optional, a
	// filter the model could not read).
	maybe bool
	// partition is the flake-parts partition the module is evaluated in
	// ("" for the flake's own evaluation).
	partition string
}

// cause is something the model could not read, where.
type cause struct {
	Loc Location
	Why string
}

// category is what the model knows of one output category of one flake.
type category struct {
	closed bool
	causes []cause
	gens   []genDef
	// declared marks a custom per-system output declared by transposition.
	declared bool
}

// genDef is an expression generating names of a category.
type genDef struct {
	Loc  Location
	Dir  string
	Keys []nameDef // names of literal sets the generating function maps
}

type catKey struct {
	flake    int
	perSys   bool
	category string
}

// model is the result of resolve.
type model struct {
	flakes     []*flake
	components []*Component
	byName     map[string]*Component
	byDir      map[string]*Component
	outputs    []*Output
	defs       map[outputKey][]*Output
	cats       map[catKey]*category
	// moduleFlakes lists, for each module, the flakes whose trees reach it.
	moduleFlakes map[moduleID][]*flake
	// fileFlake is the flake a file belongs to for `self` in its outputs
	// function (flake.nix files).
	fileFlake map[string]*flake
	diags     map[string][]Diagnostic
	defsIn    map[string][]*Output
	refsTo    map[outputKey][]Location
	// resolved holds, per file, what each of its output references
	// resolves to (by index into the file's facts.Refs).
	resolved map[string][]refResolution
	// imported lists every file some module list of some flake imports.
	imported map[string]bool
	unread   []cause
	// partition is the partition of the module being indexed.
	partition string
	// evaluated holds the files some flake's evaluation reads, as far as
	// the model can follow: the flake.nix files of the root flake and of
	// the sub-flakes its inputs reach, their modules, and every file they
	// import, transitively. Templates are where it stops.
	evaluated map[string]bool
}

type outputKey struct {
	flake    int
	perSys   bool
	category string
	name     string
}

// refResolution is where one reference leads.
type refResolution struct {
	key   outputKey
	known bool // the flake is known and the reference means it
	defs  []*Output
}

func resolve(s *Snapshot) *model {
	m := &model{
		byName: map[string]*Component{}, byDir: map[string]*Component{},
		defs: map[outputKey][]*Output{}, cats: map[catKey]*category{},
		moduleFlakes: map[moduleID][]*flake{}, fileFlake: map[string]*flake{},
		diags: map[string][]Diagnostic{}, defsIn: map[string][]*Output{},
		refsTo: map[outputKey][]Location{}, resolved: map[string][]refResolution{},
		imported: map[string]bool{},
	}
	m.findFlakes(s)
	for _, fl := range m.flakes {
		m.walkModules(s, fl)
	}
	m.buildComponents(s)
	m.findEvaluated(s)
	m.indexOutputs(s)
	m.categoriseCalls()
	m.resolveRefs(s)
	m.diagnose(s)
	return m
}

// --- flakes and their module trees -------------------------------------------

func (m *model) findFlakes(s *Snapshot) {
	rootFile := filepath.Join(s.Root, "flake.nix")
	paths := s.Files()
	add := func(file, dir string, root *moduleID, inner bool) *flake {
		fl := &flake{id: len(m.flakes), file: file, dir: dir, root: root, inner: inner, inputs: map[string]inputFact{}, pathInputs: map[string]*flake{}}
		m.flakes = append(m.flakes, fl)
		return fl
	}
	flakeFiles := []string{}
	if s.files[rootFile] != nil {
		flakeFiles = append(flakeFiles, rootFile)
	}
	for _, p := range paths {
		if filepath.Base(p) == "flake.nix" && p != rootFile {
			flakeFiles = append(flakeFiles, p)
		}
	}
	for _, p := range flakeFiles {
		f := s.files[p]
		if p != rootFile && f.facts != nil && f.facts.Flake == nil {
			continue // a module named flake.nix, not a sub-flake
		}
		if f.facts == nil || f.facts.Flake == nil {
			fl := add(p, filepath.Dir(p), nil, false)
			why := "the file cannot be read"
			if f.facts != nil {
				why = "the flake is a function, where nix needs an attribute set"
			}
			fl.open = append(fl.open, cause{Loc: Location{File: p}, Why: why})
			m.fileFlake[p] = fl
			continue
		}
		var root *moduleID
		if ms := f.facts.Flake.Outputs.Modules; len(ms) > 0 {
			root = &moduleID{p, ms[0]}
		}
		fl := add(p, filepath.Dir(p), root, false)
		for _, in := range f.facts.Flake.Inputs {
			fl.inputs[in.Name] = in
		}
		m.fileFlake[p] = fl
	}
	// Inner flakes: mkFlake calls outside a flake's outputs.
	for _, p := range paths {
		f := s.files[p]
		if f.facts == nil {
			continue
		}
		for k, mod := range f.facts.Modules {
			if mod.Inner && !isImportedModule(f.facts, k) {
				add(p, filepath.Dir(p), &moduleID{p, k}, true)
			}
		}
	}
	// Path inputs that are flakes of this repository.
	byFile := map[string]*flake{}
	for _, fl := range m.flakes {
		if !fl.inner {
			byFile[fl.file] = fl
		}
	}
	for _, fl := range m.flakes {
		for name, in := range fl.inputs {
			if in.Dir != "" && in.Flake {
				if target := byFile[filepath.Join(in.Dir, "flake.nix")]; target != nil {
					fl.pathInputs[name] = target
				}
			}
		}
	}
}

// isImportedModule reports whether module k of a file is an entry of one
// of the file's own imports lists (and so not an inner flake's root).
func isImportedModule(f *facts, k int) bool {
	for _, mod := range f.Modules {
		for _, imp := range mod.Imports {
			if imp.Kind == importInline && imp.Module == k {
				return true
			}
		}
	}
	return false
}

// walkModules follows a flake's module tree from its root module.
func (m *model) walkModules(s *Snapshot, fl *flake) {
	if fl.root == nil {
		if f := s.files[fl.file]; f != nil && f.facts != nil && f.facts.Flake != nil {
			for _, o := range f.facts.Flake.Outputs.Open {
				if o.Why != "not read" {
					fl.open = append(fl.open, cause{Loc: Location{File: fl.file, Span: o.Span}, Why: o.Why})
				}
			}
		}
		return
	}
	seen := map[moduleID]bool{}
	queue := []reachedModule{{id: *fl.root}}
	// The other modules of the outputs' mkFlake call (a list of several
	// roots) belong to the file's own flake, not to an inner flake in it.
	if mods := s.files[fl.root.file].facts.Flake; mods != nil && !fl.inner && len(mods.Outputs.Modules) > 1 {
		for _, k := range mods.Outputs.Modules[1:] {
			queue = append(queue, reachedModule{id: moduleID{fl.root.file, k}})
		}
	}
	for len(queue) > 0 {
		rm := queue[0]
		queue = queue[1:]
		if seen[rm.id] {
			continue
		}
		seen[rm.id] = true
		fl.modules = append(fl.modules, rm)
		m.moduleFlakes[rm.id] = append(m.moduleFlakes[rm.id], fl)
		f := s.files[rm.id.file]
		if f == nil || f.facts == nil || rm.id.index >= len(f.facts.Modules) {
			continue
		}
		mod := f.facts.Modules[rm.id.index]
		for _, imp := range mod.Imports {
			for _, next := range m.importTargets(s, fl, rm.id.file, imp) {
				next.maybe = next.maybe || rm.maybe || imp.Optional
				next.body = mod.Adios
				next.partition = rm.partition
				if imp.Partition != "" {
					next.partition = imp.Partition
				}
				queue = append(queue, next)
			}
		}
	}
}

// importTargets resolves one entry of an imports list to the modules it
// imports, recording on the flake what cannot be read.
func (m *model) importTargets(s *Snapshot, fl *flake, file string, imp importFact) []reachedModule {
	openWith := func(why string) []reachedModule {
		fl.open = append(fl.open, cause{Loc: Location{File: file, Span: imp.Span}, Why: why})
		return nil
	}
	switch imp.Kind {
	case importInline:
		return []reachedModule{{id: moduleID{file, imp.Module}}}
	case importExternal:
		in, declared := fl.inputs[imp.Input]
		if k, ok := known(in, declared, imp); ok {
			// A module the model knows: only the categories it adds to
			// are open.
			for _, c := range k.perSystem {
				fl.openCats = append(fl.openCats, catOpen{catKey{fl.id, true, c}, cause{Loc: Location{File: file, Span: imp.Span}, Why: imp.Why}})
			}
			for _, c := range k.flake {
				fl.openCats = append(fl.openCats, catOpen{catKey{fl.id, false, c}, cause{Loc: Location{File: file, Span: imp.Span}, Why: imp.Why}})
			}
			for opt, c := range k.derives {
				if fl.derives == nil {
					fl.derives = map[string]string{}
				}
				fl.derives[opt] = c
			}
			return nil
		}
		return openWith(imp.Why)
	case importUnknown:
		return openWith(imp.Why)
	case importFile:
		target := m.moduleFile(s, imp.Target)
		m.imported[target] = true
		return m.fileModule(s, fl, file, imp, target)
	case importTree:
		var out []reachedModule
		for _, p := range s.fs.Below(imp.Target) {
			if !strings.HasSuffix(p, ".nix") || s.files[p] == nil {
				continue
			}
			rel := strings.TrimPrefix(p, imp.Target)
			if strings.Contains(rel, "/_") || slices.Contains(imp.Exclude, rel) || imp.Match != "" && !matchesFully(imp.Match, rel) {
				continue
			}
			m.imported[p] = true
			for _, r := range m.fileModule(s, fl, file, imp, p) {
				r.maybe = imp.FilterUnread
				out = append(out, r)
			}
		}
		if imp.FilterUnread {
			fl.open = append(fl.open, cause{Loc: Location{File: file, Span: imp.Span}, Why: "an import-tree filter the model cannot read"})
		}
		return out
	case importGlob:
		var out []reachedModule
		for _, p := range s.fs.Glob(imp.Target, imp.Pattern) {
			p = m.moduleFile(s, p)
			if s.files[p] == nil {
				continue
			}
			m.imported[p] = true
			for _, r := range m.fileModule(s, fl, file, imp, p) {
				r.maybe = true
				out = append(out, r)
			}
		}
		return out
	}
	return nil
}

// fileModule is the module a file is, when imported.
func (m *model) fileModule(s *Snapshot, fl *flake, from string, imp importFact, target string) []reachedModule {
	f := s.files[target]
	switch {
	case f == nil && !s.fs.Exists(target):
		return nil // a missing file (reported where it is imported) defines nothing
	case f == nil:
		fl.open = append(fl.open, cause{Loc: Location{File: from, Span: imp.Span}, Why: relPath(s.Root, target) + " is not indexed"})
		return nil
	case f.facts == nil || f.facts.Self < 0:
		fl.open = append(fl.open, cause{Loc: Location{File: from, Span: imp.Span}, Why: relPath(s.Root, target) + " is not a module the model reads"})
		return nil
	}
	return []reachedModule{{id: moduleID{target, f.facts.Self}}}
}

// moduleFile maps an imported path to the file Nix reads: a directory
// means its default.nix.
func (m *model) moduleFile(s *Snapshot, target string) string {
	if s.fs.IsDir(target) {
		return filepath.Join(target, "default.nix")
	}
	return target
}

func matchesFully(re, s string) bool {
	r, err := compileFull(re)
	return err == nil && r.MatchString(s)
}

// --- components ----------------------------------------------------------------

// componentDir is the directory a module file stands for: the file's own
// directory, or its parent when the file sits in a nix/ folder
// (backend/nix/outputs.nix belongs to backend).
func componentDir(root, file string) string {
	dir := filepath.Dir(file)
	if filepath.Base(dir) == "nix" && dir != root && filepath.Dir(dir) != root {
		dir = filepath.Dir(dir)
	}
	return dir
}

func (m *model) buildComponents(s *Snapshot) {
	byDir := map[string]*Component{}
	add := func(dir string) *Component {
		if c := byDir[dir]; c != nil {
			return c
		}
		c := &Component{Name: filepath.Base(dir), Dir: dir}
		byDir[dir] = c
		return c
	}
	for _, fl := range m.flakes {
		if fl.inner {
			continue
		}
		if fl.file != filepath.Join(s.Root, "flake.nix") {
			c := add(fl.dir)
			c.SubFlake = true
			c.Modules = append(c.Modules, fl.file)
			fl.component = c
		} else if f := s.files[fl.file]; f != nil && f.facts != nil && f.facts.Flake != nil && len(f.facts.Flake.Outputs.Names) > 0 {
			c := add(s.Root)
			c.Modules = append(c.Modules, fl.file)
		}
		for _, rm := range fl.modules {
			if !m.moduleDefines(s, rm, rm.id.file != fl.file) {
				continue
			}
			dir := componentDir(s.Root, rm.id.file)
			if rm.id.file == fl.file {
				dir = fl.dir
			}
			c := add(dir)
			if !slices.Contains(c.Modules, rm.id.file) {
				c.Modules = append(c.Modules, rm.id.file)
			}
		}
	}
	// Directories of files called with callPackage from the flakes' files:
	// package sets.
	for _, p := range s.Files() {
		f := s.files[p]
		if f.facts == nil {
			continue
		}
		for _, call := range f.facts.Calls {
			target := m.moduleFile(s, call.Target)
			if s.files[target] == nil || filepath.Dir(target) == filepath.Dir(p) && filepath.Base(target) != "package.nix" {
				continue
			}
			dir := filepath.Dir(target)
			if dir == s.Root || !isUnder(dir, s.Root) {
				continue
			}
			c := add(dir)
			if !slices.Contains(c.Modules, target) {
				c.Modules = append(c.Modules, target)
			}
			if call.Name != "" {
				c.packageOf = append(c.packageOf, call.Name)
				c.settings = append(c.settings, &Output{Category: Packages, Name: call.Name, Def: Location{File: p, Span: call.NameSpan}, setting: true, flake: -1})
			}
		}
	}
	count := map[string]int{}
	for _, c := range byDir {
		count[c.Name]++
	}
	for _, c := range byDir {
		if count[c.Name] > 1 {
			if rel, err := filepath.Rel(s.Root, c.Dir); err == nil && rel != "." {
				c.Name = filepath.ToSlash(rel)
			}
		}
		sort.Strings(c.Modules)
		m.components = append(m.components, c)
	}
	sort.Slice(m.components, func(i, j int) bool { return m.components[i].Name < m.components[j].Name })
	for _, c := range m.components {
		m.byName[c.Name] = c
		m.byDir[c.Dir] = c
	}
	for _, p := range s.Files() {
		if c := m.nearest(p); c != nil {
			c.Files = append(c.Files, p)
		}
	}
	// What modules set besides outputs, listed with their components.
	for _, fl := range m.flakes {
		for _, rm := range fl.modules {
			f := s.files[rm.id.file]
			if f == nil || f.facts == nil || rm.id.index >= len(f.facts.Modules) || rm.body {
				continue
			}
			set := f.facts.Modules[rm.id.index].Settings
			c := m.nearest(rm.id.file)
			if set == nil || c == nil {
				continue
			}
			for _, opt := range set.Names {
				if setupOptions[opt.Name] {
					continue
				}
				names := set.Sub[opt.Name]
				if names == nil || len(names.Names) == 0 {
					c.settings = append(c.settings, &Output{Category: opt.Name, Def: Location{File: rm.id.file, Span: opt.Span}, setting: true, flake: fl.id})
					continue
				}
				for _, n := range names.Names {
					c.settings = append(c.settings, &Output{Category: opt.Name, Name: n.Name, Def: Location{File: rm.id.file, Span: n.Span}, setting: true, flake: fl.id})
				}
			}
		}
	}
	for _, c := range m.components {
		for _, o := range c.settings {
			o.Component = c.Name
		}
		c.Outputs = append(c.Outputs, c.settings...)
	}
}

// categoriseCalls gives the outputs a package set's callPackage calls
// name the category of the flake output defined at the same place, when
// there is one: `devShells = eachSystem (pkgs: { web = callPackage
// ./web/shell.nix { }; })` makes devShells.web, not packages.web.
func (m *model) categoriseCalls() {
	at := map[Location]*Output{}
	for _, o := range m.outputs {
		at[o.Def] = o
	}
	for _, c := range m.components {
		for _, o := range c.settings {
			if o.flake != -1 {
				continue
			}
			if def := at[o.Def]; def != nil {
				o.Category = def.Category
			}
		}
	}
}

// moduleDefines reports whether a reached module contributes to the
// flake: outputs, or (with options set) options other than the set-up
// every flake has (systems, module arguments).
func (m *model) moduleDefines(s *Snapshot, rm reachedModule, options bool) bool {
	f := s.files[rm.id.file]
	if f == nil || f.facts == nil || rm.id.index >= len(f.facts.Modules) {
		return false
	}
	mod := f.facts.Modules[rm.id.index]
	if rm.body {
		return hasOwnNames(mod.Body) || !mod.Body.closed()
	}
	if hasOwnNames(mod.PerSystem) || hasOwnNames(mod.Flake) || len(mod.Declares) > 0 || !mod.PerSystem.closed() || !mod.Flake.closed() {
		return true
	}
	if options {
		for _, o := range mod.Options {
			if !setupOptions[o.Name] {
				return true
			}
		}
	}
	return false
}

// setupOptions are flake-parts options every flake sets up, which make no
// component of a module.
var setupOptions = map[string]bool{"systems": true, "_module": true, "debug": true, "_file": true, "_class": true, "key": true, "disabledModules": true}

// hasOwnNames reports whether a shape defines names other than module
// arguments (_module.args).
func hasOwnNames(sh *shape) bool {
	for _, n := range sh.Names {
		if n.Name != "_module" {
			return true
		}
	}
	return false
}

// nearest returns the component whose directory is the nearest proper
// ancestor of path.
func (m *model) nearest(path string) *Component {
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		if c := m.byDir[dir]; c != nil {
			return c
		}
		if parent := filepath.Dir(dir); parent == dir {
			return nil
		}
	}
}

// findEvaluated computes m.evaluated.
func (m *model) findEvaluated(s *Snapshot) {
	m.evaluated = map[string]bool{}
	root := m.rootFlake(s)
	if root == nil {
		return
	}
	var templates []string
	for _, p := range s.Files() {
		if f := s.files[p]; f.facts != nil {
			templates = append(templates, f.facts.Templates...)
		}
	}
	inTemplate := func(p string) bool {
		for _, t := range templates {
			if isUnder(p, t) {
				return true
			}
		}
		return false
	}
	var queue []string
	push := func(p string) {
		if !m.evaluated[p] && s.files[p] != nil && !inTemplate(p) {
			m.evaluated[p] = true
			queue = append(queue, p)
		}
	}
	seenFlakes := map[*flake]bool{}
	var visit func(fl *flake)
	visit = func(fl *flake) {
		if seenFlakes[fl] {
			return
		}
		seenFlakes[fl] = true
		push(fl.file)
		for _, rm := range fl.modules {
			push(rm.id.file)
		}
		for _, sub := range fl.pathInputs {
			visit(sub)
		}
	}
	visit(root)
	for i := 0; i < len(queue); i++ {
		f := s.files[queue[i]]
		if f.facts == nil {
			continue
		}
		for _, p := range f.facts.Paths {
			if p.Import && !p.FromSelf {
				push(m.moduleFile(s, p.Target))
			}
		}
		for _, c := range f.facts.Calls {
			push(m.moduleFile(s, c.Target))
		}
	}
}

// --- outputs -----------------------------------------------------------------------

func (m *model) cat(k catKey) *category {
	c := m.cats[k]
	if c == nil {
		c = &category{closed: true}
		m.cats[k] = c
	}
	return c
}

func (m *model) indexOutputs(s *Snapshot) {
	for _, fl := range m.flakes {
		ex := &expander{s: s, seen: map[string]bool{}}
		if !fl.inner {
			if f := s.files[fl.file]; f != nil && f.facts != nil && f.facts.Flake != nil {
				m.flakeLevel(s, ex, fl, fl.file, f.facts.Flake.Outputs, moduleID{fl.file, -1}, false)
			}
		}
		for _, rm := range fl.modules {
			f := s.files[rm.id.file]
			if f == nil || f.facts == nil || rm.id.index >= len(f.facts.Modules) {
				continue
			}
			mod := f.facts.Modules[rm.id.index]
			m.partition = rm.partition
			if rm.body {
				m.perSystem(s, ex, fl, rm.id.file, mod.Body, rm.id, rm.maybe)
			} else {
				m.perSystem(s, ex, fl, rm.id.file, mod.PerSystem, rm.id, rm.maybe)
				m.flakeLevel(s, ex, fl, rm.id.file, mod.Flake, rm.id, rm.maybe)
			}
			m.partition = ""
			for _, d := range mod.Declares {
				m.cat(catKey{fl.id, true, d}).declared = true
			}
		}
		for _, o := range fl.openCats {
			c := m.cat(o.key)
			c.closed = false
			c.causes = append(c.causes, o.cause)
		}
		if len(fl.open) > 0 {
			for k, c := range m.cats {
				if k.flake == fl.id {
					c.closed = false
					c.causes = append(c.causes, fl.open...)
				}
			}
		}
	}
	sort.Slice(m.outputs, func(i, j int) bool {
		a, b := m.outputs[i], m.outputs[j]
		if a.Category != b.Category {
			return a.Category < b.Category
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Component < b.Component
	})
}

// perSystem indexes a per-system shape: category -> names.
func (m *model) perSystem(s *Snapshot, ex *expander, fl *flake, file string, sh *shape, mod moduleID, maybe bool) {
	top := ex.expand(file, sh, 2)
	m.openCauses(fl, catKey{flake: fl.id, perSys: true}, file, top, true)
	done := map[string]bool{}
	for _, cd := range top.Names {
		name := cd.Name
		if done[name] || name == "_module" {
			continue // _module.args are arguments, not outputs
		}
		done[name] = true
		k := catKey{fl.id, true, name}
		inner := ex.expand(file, top.Sub[name], 1)
		m.openCauses(fl, k, file, inner, false)
		for _, nd := range inner.Names {
			m.define(s, fl, true, name, nd.Name, "", Location{File: nd.file, Span: nd.Span}, mod, maybe || nd.Cond).listed = nd.Listed
			if derived, ok := fl.derives[name]; ok {
				// The setting is where the derived output is defined.
				m.define(s, fl, true, derived, nd.Name, "", Location{File: nd.file, Span: nd.Span}, mod, maybe || nd.Cond).derived = true
			}
		}
		if len(inner.Names) == 0 {
			// A category defined without names read (a custom output):
			// its definition is where the category is.
			m.cat(k)
		}
		m.catDef(fl, true, name, Location{File: cd.file, Span: cd.Span}, mod)
	}
}

// flakeLevel indexes a flake-level shape: category -> names, or
// per-system category -> system -> names.
func (m *model) flakeLevel(s *Snapshot, ex *expander, fl *flake, file string, sh *shape, mod moduleID, maybe bool) {
	if sh == nil {
		return
	}
	top := ex.expand(file, sh, 3)
	m.openCauses(fl, catKey{flake: fl.id}, file, top, true)
	done := map[string]bool{}
	for _, cd := range top.Names {
		name := cd.Name
		if done[name] {
			continue
		}
		done[name] = true
		inner := ex.expand(file, top.Sub[name], 2)
		if perSystemCategories[name] {
			k := catKey{fl.id, true, name}
			m.catDef(fl, true, name, Location{File: cd.file, Span: cd.Span}, mod)
			m.openCauses(fl, k, file, inner, false)
			sysDone := map[string]bool{}
			for _, sys := range inner.Names {
				if sysDone[sys.Name] {
					continue
				}
				sysDone[sys.Name] = true
				names := ex.expand(file, inner.Sub[sys.Name], 1)
				m.openCauses(fl, k, file, names, false)
				for _, nd := range names.Names {
					m.define(s, fl, true, name, nd.Name, sys.Name, Location{File: nd.file, Span: nd.Span}, mod, maybe || nd.Cond)
				}
			}
			if inner.Any != nil {
				names := ex.expand(file, inner.Any, 1)
				m.openCauses(fl, k, file, names, false)
				for _, nd := range names.Names {
					m.define(s, fl, true, name, nd.Name, "", Location{File: nd.file, Span: nd.Span}, mod, maybe || nd.Cond)
				}
			}
			continue
		}
		k := catKey{fl.id, false, name}
		m.openCauses(fl, k, file, inner, false)
		m.catDef(fl, false, name, Location{File: cd.file, Span: cd.Span}, mod)
		for _, nd := range inner.Names {
			m.define(s, fl, false, name, nd.Name, "", Location{File: nd.file, Span: nd.Span}, mod, maybe || nd.Cond)
		}
	}
	if top.Any != nil {
		// outputs.${x} = …: every category may have more names.
		m.openCauses(fl, catKey{flake: fl.id}, file, &expanded{Open: []cause{{Loc: Location{File: file}, Why: "a computed output name"}}}, true)
	}
}

// openCauses records why a category (or, when all is set, every category
// of the flake) is not closed.
func (m *model) openCauses(fl *flake, k catKey, file string, e *expanded, all bool) {
	if e.closed() {
		return
	}
	if all {
		fl.open = append(fl.open, e.Open...)
		return
	}
	c := m.cat(k)
	c.closed = false
	c.causes = append(c.causes, e.Open...)
	c.gens = append(c.gens, e.Gens...)
}

func (m *model) catDef(fl *flake, perSys bool, category string, loc Location, mod moduleID) {
	m.cat(catKey{fl.id, perSys, category})
	k := outputKey{fl.id, perSys, category, ""}
	m.defs[k] = append(m.defs[k], &Output{Category: category, FlakeOnly: !perSys, Def: loc, flake: fl.id, perSys: perSys, module: mod, isCategory: true})
}

func (m *model) define(s *Snapshot, fl *flake, perSys bool, category, name, system string, loc Location, mod moduleID, maybe bool) *Output {
	m.cat(catKey{fl.id, perSys, category})
	o := &Output{Category: category, Name: name, FlakeOnly: !perSys || system != "", System: system, Def: loc, flake: fl.id, perSys: perSys, module: mod, maybe: maybe, partition: m.partition}
	if c := m.nearest(loc.File); c != nil {
		o.Component = c.Name
		c.Outputs = append(c.Outputs, o)
	} else if c := m.byDir[s.Root]; c != nil && filepath.Dir(loc.File) == s.Root {
		o.Component = c.Name
		c.Outputs = append(c.Outputs, o)
	}
	k := outputKey{fl.id, perSys, category, name}
	m.defs[k] = append(m.defs[k], o)
	m.defsIn[loc.File] = append(m.defsIn[loc.File], o)
	m.outputs = append(m.outputs, o)
	return o
}

// --- expanding shapes across files -------------------------------------------------

// expanded is a shape with other files' values merged in: names carry the
// file that defines them.
type expanded struct {
	Names []fileName
	Sub   map[string]*shapeIn
	Any   *shapeIn
	Open  []cause
	Gens  []genDef
}

type fileName struct {
	nameDef
	file string
	Cond bool
}

// shapeIn is a shape and the file it was read in.
type shapeIn struct {
	parts []part
}

type part struct {
	file string
	sh   *shape
}

func (e *expanded) closed() bool { return len(e.Open) == 0 && len(e.Gens) == 0 }

// expander merges other files' values into shapes, each file's value read
// at most once per path to avoid cycles.
type expander struct {
	s    *Snapshot
	seen map[string]bool
}

func (ex *expander) expand(file string, sh any, depth int) *expanded {
	e := &expanded{Sub: map[string]*shapeIn{}}
	var parts []part
	switch v := sh.(type) {
	case *shape:
		parts = []part{{file, v}}
	case *shapeIn:
		if v != nil {
			parts = v.parts
		}
	}
	for _, p := range parts {
		ex.add(e, p.file, p.sh, depth, 0)
	}
	return e
}

func (ex *expander) add(e *expanded, file string, sh *shape, depth, hops int) {
	if sh == nil {
		return
	}
	subbed := map[string]bool{}
	for _, n := range sh.Names {
		e.Names = append(e.Names, fileName{nameDef: n, file: file})
		if sub := sh.Sub[n.Name]; sub != nil && !subbed[n.Name] {
			subbed[n.Name] = true
			if e.Sub[n.Name] == nil {
				e.Sub[n.Name] = &shapeIn{}
			}
			e.Sub[n.Name].parts = append(e.Sub[n.Name].parts, part{file, sub})
		}
	}
	if sh.Any != nil {
		if e.Any == nil {
			e.Any = &shapeIn{}
		}
		e.Any.parts = append(e.Any.parts, part{file, sh.Any})
	}
	for _, o := range sh.Open {
		if o.Why == "not read" {
			continue
		}
		e.Open = append(e.Open, cause{Loc: Location{File: file, Span: o.Span}, Why: o.Why})
	}
	for _, g := range sh.Gens {
		e.Gens = append(e.Gens, genDef{Loc: Location{File: file, Span: g.Span}, Dir: g.Dir, Keys: g.Keys})
		e.Open = append(e.Open, cause{Loc: Location{File: file, Span: g.Span}, Why: g.Why})
	}
	for _, fv := range sh.Files {
		ex.addFile(e, file, fv, depth, hops)
	}
}

// addFile merges the value of another file.
func (ex *expander) addFile(e *expanded, from string, fv fileValue, depth, hops int) {
	target := fv.Target
	if ex.s.fs.IsDir(target) {
		target = filepath.Join(target, "default.nix")
	}
	key := fmt.Sprint(target, fv.Strip, fv.Path)
	f := ex.s.files[target]
	if hops > 8 || ex.seen[key] || f == nil || f.facts == nil || f.facts.Top == nil {
		why := "the value of " + relPath(ex.s.Root, target) + " is not read"
		e.Open = append(e.Open, cause{Loc: Location{File: from, Span: fv.Span}, Why: why})
		return
	}
	ex.seen[key] = true
	defer delete(ex.seen, key)
	sh := f.facts.Top
	if fv.Strip > len(f.facts.Formals) && fv.Strip > 1 {
		e.Open = append(e.Open, cause{Loc: Location{File: from, Span: fv.Span}, Why: "a function result the model does not follow"})
		return
	}
	for _, name := range fv.Path {
		sh = sh.selectName(name)
	}
	ex.add(e, target, sh, depth, hops+1)
}

// --- references ------------------------------------------------------------------------

// flakesOfRef returns the flakes a reference's base means, and whether the
// model is sure of it.
func (m *model) flakesOfRef(s *Snapshot, file string, r outputRef) ([]*flake, bool) {
	switch {
	case r.Module == -1:
		if fl := m.fileFlake[file]; fl != nil {
			return []*flake{fl}, r.Bound == boundByFlake
		}
		return nil, false
	case r.Module >= 0:
		if fls := m.moduleFlakes[moduleID{file, r.Module}]; len(fls) > 0 {
			return fls, r.Bound == boundByFlake && len(fls) == 1
		}
	}
	// By convention: the root flake, or the sub-flake holding the file.
	if c := m.nearest(file); c != nil && c.SubFlake {
		for _, fl := range m.flakes {
			if fl.component == c {
				return []*flake{fl}, false
			}
		}
	}
	if len(m.flakes) > 0 && !m.flakes[0].inner && m.flakes[0].file == filepath.Join(s.Root, "flake.nix") {
		return []*flake{m.flakes[0]}, false
	}
	return nil, false
}

// flakeOfFile is the flake a file's references most likely mean: the one
// reaching its module, else the sub-flake holding it, else the root.
func (m *model) flakeOfFile(s *Snapshot, f *File) *flake {
	module := -2
	switch {
	case f.facts != nil && f.facts.Flake != nil:
		module = -1
	case f.facts != nil && f.facts.Self >= 0:
		module = f.facts.Self
	}
	fls, _ := m.flakesOfRef(s, f.Path, outputRef{Module: module, Bound: boundByFlake})
	if len(fls) == 0 {
		return nil
	}
	return fls[0]
}

func (m *model) resolveRefs(s *Snapshot) {
	for _, p := range s.Files() {
		f := s.files[p]
		if f.facts == nil || len(f.facts.Refs) == 0 {
			continue
		}
		out := make([]refResolution, len(f.facts.Refs))
		for i, r := range f.facts.Refs {
			out[i] = m.resolveRef(s, p, r)
			if out[i].key.category != "" {
				m.refsTo[out[i].key] = append(m.refsTo[out[i].key], Location{File: p, Span: r.Span})
			}
		}
		m.resolved[p] = out
	}
	// Dependencies between components.
	for _, p := range s.Files() {
		from := m.nearest(p)
		if from == nil {
			continue
		}
		for _, res := range m.resolved[p] {
			for _, d := range res.defs {
				if d.Component != "" && d.Component != from.Name && !slices.Contains(from.Deps, d.Component) {
					from.Deps = append(from.Deps, d.Component)
				}
			}
		}
	}
	for _, c := range m.components {
		sort.Strings(c.Deps)
	}
}

// resolveRef finds what one reference names.
func (m *model) resolveRef(s *Snapshot, file string, r outputRef) refResolution {
	fls, sure := m.flakesOfRef(s, file, r)
	if len(fls) == 0 {
		return refResolution{}
	}
	fl := fls[0]
	if r.Base == baseInput || r.Base == baseInputPerSys {
		target := fl.pathInputs[r.Input]
		if target == nil {
			return refResolution{}
		}
		fl = target
	}
	perSys := r.Base == baseSelfPerSystem || r.Base == baseConfig || r.Base == baseInputPerSys || r.FlakeLevel
	if r.Base == baseConfig && !perSystemCategories[r.Category] && !m.cat(catKey{fl.id, true, r.Category}).declared {
		return refResolution{} // another perSystem option, not an output
	}
	k := outputKey{fl.id, perSys, r.Category, r.Name}
	res := refResolution{key: k, known: sure}
	for _, d := range m.defs[k] {
		if r.System != "" && r.System != "*" && d.System != "" && d.System != r.System {
			continue
		}
		res.defs = append(res.defs, d)
	}
	if len(res.defs) == 0 && !sure {
		res.defs = m.ownModuleDefs(s, file, r)
	}
	return res
}

// ownModuleDefs finds the definitions of a perSystem reference in the
// module that makes it, for a module no flake the model read reaches (a
// module list it could not follow): whichever flake imports the module,
// self' and config mean that flake's perSystem set, and this module
// contributes the definition to it. The outputs belong to no flake of the
// model, so nothing is diagnosed from them.
func (m *model) ownModuleDefs(s *Snapshot, file string, r outputRef) []*Output {
	if r.Module < 0 || (r.Base != baseSelfPerSystem && r.Base != baseConfig) || r.FlakeLevel {
		return nil
	}
	mod := moduleID{file, r.Module}
	f := s.files[file]
	if len(m.moduleFlakes[mod]) > 0 || f == nil || f.facts == nil || r.Module >= len(f.facts.Modules) {
		return nil
	}
	ex := &expander{s: s, seen: map[string]bool{}}
	top := ex.expand(file, f.facts.Modules[r.Module].PerSystem, 2)
	inner := ex.expand(file, top.Sub[r.Category], 1)
	var out []*Output
	for _, nd := range inner.Names {
		if nd.Name != r.Name {
			continue
		}
		o := &Output{Category: r.Category, Name: r.Name, Def: Location{File: nd.file, Span: nd.Span}, flake: -1, perSys: true, module: mod}
		if c := m.nearest(nd.file); c != nil {
			o.Component = c.Name
		}
		out = append(out, o)
	}
	return out
}

// lookup is the resolution of reference i of a file.
func (m *model) lookup(file string, i int) refResolution {
	rs := m.resolved[file]
	if i < len(rs) {
		return rs[i]
	}
	return refResolution{}
}

// --- what the model could not read -------------------------------------------------

// unreadCauses lists, once each, what keeps the root flake's outputs from
// being known completely.
func (m *model) unreadCauses() []cause {
	seen := map[string]bool{}
	var out []cause
	for _, fl := range m.flakes {
		if fl.inner {
			continue
		}
		for _, c := range fl.open {
			key := c.Loc.File + fmt.Sprint(c.Loc.Span) + c.Why
			if !seen[key] {
				seen[key] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// rootFlake is the flake of the repository's root flake.nix, or nil.
func (m *model) rootFlake(s *Snapshot) *flake {
	root := filepath.Join(s.Root, "flake.nix")
	for _, fl := range m.flakes {
		if !fl.inner && fl.file == root {
			return fl
		}
	}
	return nil
}
