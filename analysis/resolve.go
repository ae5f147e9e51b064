package analysis

import (
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// model is everything resolved across files: components, the output
// index, where each reference points, and the diagnostics per file.
type model struct {
	components []*Component
	byName     map[string]*Component
	byDir      map[string]*Component
	outputs    []*Output
	// defs indexes outputs by outputKey.
	defs map[outputKey][]*Output
	// open holds categories (per input, "" for self) whose names are
	// computed somewhere: references into them are never unknown.
	open map[string]map[string]bool
	// inputs maps a flake.nix to its path inputs: name -> component.
	inputs map[string]map[string]*Component
	// reachable is the flake's module tree: module file -> imported.
	reachable map[string]bool
	// computed is set when some imports are computed from directories.
	computed bool
	diags    map[string][]Diagnostic
	// defsIn indexes outputs by the file defining them.
	defsIn map[string][]*Output
	// refsTo lists the references resolving to each output key.
	refsTo map[outputKey][]Location
}

type outputKey struct {
	component string // defining sub-flake for input references; "" for the flake itself
	category  string
	name      string
}

// resolve builds the model from the facts of every file.
func resolve(s *Snapshot) *model {
	m := &model{
		byName:    map[string]*Component{},
		byDir:     map[string]*Component{},
		defs:      map[outputKey][]*Output{},
		open:      map[string]map[string]bool{},
		inputs:    map[string]map[string]*Component{},
		reachable: map[string]bool{},
		diags:     map[string][]Diagnostic{},
		defsIn:    map[string][]*Output{},
		refsTo:    map[outputKey][]Location{},
	}
	rootFlake := filepath.Join(s.Root, "flake.nix")
	m.walkModules(s, rootFlake)
	m.buildComponents(s, rootFlake)
	m.indexOutputs(s)
	m.resolveInputs(s, rootFlake)
	m.diagnose(s)
	return m
}

// walkModules follows imports from the root flake through every module.
func (m *model) walkModules(s *Snapshot, rootFlake string) {
	m.reachable[rootFlake] = true
	m.walkFrom(s, rootFlake)
}

// walkFrom follows imports from one flake.nix through its module tree,
// marks every module reached, and returns those it reached first.
func (m *model) walkFrom(s *Snapshot, start string) []string {
	var reached []string
	queue := []string{start}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		f := s.files[p]
		if f == nil || f.facts == nil {
			continue
		}
		var next []string
		for _, imp := range f.facts.imports {
			next = append(next, moduleFile(imp.Target))
		}
		for _, dir := range f.facts.computedImports {
			m.computed = true
			prefix := dir + string(filepath.Separator)
			for q := range s.files {
				if strings.HasPrefix(q, prefix) {
					next = append(next, q)
				}
			}
		}
		sort.Strings(next)
		for _, q := range next {
			if !m.reachable[q] {
				m.reachable[q] = true
				reached = append(reached, q)
				queue = append(queue, q)
			}
		}
	}
	return reached
}

// moduleFile maps an imported path to the file Nix reads: a directory means
// its default.nix.
func moduleFile(target string) string {
	if strings.HasSuffix(target, ".nix") {
		return target
	}
	if info, err := os.Stat(target); err == nil && info.IsDir() {
		return filepath.Join(target, "default.nix")
	}
	return target
}

// componentDir is the directory a module file stands for: the file's own
// directory, or its parent when the file sits in a nix/ folder
// (backend/nix/outputs.nix belongs to backend).
func componentDir(root, file string) string {
	dir := filepath.Dir(file)
	if filepath.Base(dir) == "nix" && dir != root {
		dir = filepath.Dir(dir)
	}
	return dir
}

func (m *model) buildComponents(s *Snapshot, rootFlake string) {
	// What the root flake reaches, before sub-flakes add their trees.
	rootReachable := maps.Clone(m.reachable)
	byDir := map[string]*Component{}
	add := func(dir string, subFlake bool) *Component {
		if c := byDir[dir]; c != nil {
			return c
		}
		name := filepath.Base(dir)
		c := &Component{Name: name, Dir: dir, SubFlake: subFlake}
		byDir[dir] = c
		return c
	}
	paths := make([]string, 0, len(s.files))
	for p := range s.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	// Sub-flakes: every flake.nix below the root, with the modules its own
	// module tree imports when it uses flake-parts too. Modules the root
	// flake imports belong to the root's components, so the root's tree is
	// walked first.
	for _, p := range paths {
		if filepath.Base(p) == "flake.nix" && p != rootFlake {
			c := add(filepath.Dir(p), true)
			c.Modules = append(c.Modules, p)
		}
	}
	for _, p := range paths {
		if filepath.Base(p) != "flake.nix" || p == rootFlake {
			continue
		}
		c := byDir[filepath.Dir(p)]
		for _, q := range m.walkFrom(s, p) {
			if f := s.files[q]; f != nil && f.facts != nil && (len(f.facts.outputs) > 0 || len(f.facts.open) > 0) {
				c.Modules = append(c.Modules, q)
			}
		}
	}
	// Modules of the flake that define outputs.
	for _, p := range paths {
		f := s.files[p]
		if !rootReachable[p] || p == rootFlake || f.facts == nil || len(f.facts.outputs) == 0 && len(f.facts.open) == 0 {
			continue
		}
		c := add(componentDir(s.Root, p), false)
		c.Modules = append(c.Modules, p)
	}
	// Outputs the root flake defines itself belong to a component named
	// after the repository.
	if f := s.files[rootFlake]; f != nil && f.facts != nil && len(f.facts.outputs) > 0 {
		c := add(s.Root, false)
		c.Modules = append(c.Modules, rootFlake)
	}
	// Outputs come from the component's modules.
	for _, c := range byDir {
		for _, p := range c.Modules {
			for _, d := range s.files[p].facts.outputs {
				c.Outputs = append(c.Outputs, &Output{
					Category: d.Category, Name: d.Name, FlakeOnly: d.FlakeOnly, System: d.System,
					Component: c.Name, Def: Location{File: p, Span: d.Span},
				})
			}
		}
	}
	// Names must be unique: two components in directories with the same
	// base name are told apart by their path relative to the root.
	count := map[string]int{}
	for _, c := range byDir {
		count[c.Name]++
	}
	for _, c := range byDir {
		if count[c.Name] > 1 {
			if rel, err := filepath.Rel(s.Root, c.Dir); err == nil && rel != "." {
				c.Name = filepath.ToSlash(rel)
				for _, o := range c.Outputs {
					o.Component = c.Name
				}
			}
		}
		m.components = append(m.components, c)
	}
	sort.Slice(m.components, func(i, j int) bool { return m.components[i].Name < m.components[j].Name })
	for _, c := range m.components {
		m.byName[c.Name] = c
		m.byDir[c.Dir] = c
	}
	// Files: every indexed file belongs to its nearest component directory.
	for _, p := range paths {
		if c := m.nearest(p); c != nil {
			c.Files = append(c.Files, p)
		}
	}
}

// nearest returns the component whose directory is the nearest proper
// ancestor of path, walking up the directories (not over the components,
// which would cost files x components).
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

func (m *model) indexOutputs(s *Snapshot) {
	for _, c := range m.components {
		owner := ""
		if c.SubFlake {
			owner = c.Name
		}
		for _, o := range c.Outputs {
			k := outputKey{owner, o.Category, o.Name}
			m.defs[k] = append(m.defs[k], o)
			m.defsIn[o.Def.File] = append(m.defsIn[o.Def.File], o)
			m.outputs = append(m.outputs, o)
		}
		for _, p := range c.Modules {
			for _, cat := range s.files[p].facts.open {
				if m.open[owner] == nil {
					m.open[owner] = map[string]bool{}
				}
				m.open[owner][cat] = true
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
