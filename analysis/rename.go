package analysis

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// TextEdit replaces a span of a file with new text.
type TextEdit struct {
	Span    syntax.Span
	NewText string
}

// ErrCannotRename is wrapped by the errors PrepareRename and Rename return
// when the name at the position cannot be renamed safely.
var ErrCannotRename = errors.New("cannot rename")

var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_'-]*$`)

// A rename must leave the flake evaluating to the same derivations under
// the new name, so it edits more than the names the model indexes:
//
//   - `inherit (self'.packages) old;` binds the name old where it stands,
//     for the code around it. In a let whose every use of old is known the
//     uses are renamed with it; anywhere else (an attribute set, where old
//     is an attribute such as a devShell's variable) the inherit becomes
//     `old = self'.packages.new;`, so nothing around it changes. The same
//     holds for `inherit (config.packages)`, `inherit
//     (self.packages.${system})` and `inherit (inputs'.x.packages)`.
//   - an output defined by `inherit (pkgs) old;` becomes `new = pkgs.old;`.
//
// It refuses, saying where, when it cannot see every use: the category
// read through `with`, used as a whole value (attrValues, `?`, passed
// on), selected with a computed name, names in the category computed
// somewhere (the new one may be taken), or the output defined in a rec
// set that uses its attributes by name.

// PrepareRename reports the span and current name of the output at offset,
// or why it cannot be renamed.
func PrepareRename(s *Snapshot, file string, offset int) (syntax.Span, string, error) {
	t, f := s.at(file, offset)
	if f == nil {
		return syntax.Span{}, "", fmt.Errorf("%w: there is no flake output at this position", ErrCannotRename)
	}
	key, ok := s.keyOf(f.Path, t)
	if !ok || key.name == "" {
		return syntax.Span{}, "", fmt.Errorf("%w: there is no flake output at this position", ErrCannotRename)
	}
	if len(s.model.defs[key]) == 0 {
		if c := s.model.cats[catKey{key.flake, key.perSys, key.category}]; c != nil && !c.closed || !s.model.flakeClosed(key.flake) {
			return syntax.Span{}, "", fmt.Errorf("%w: %s.%s is produced dynamically (its name is computed), so its definition cannot be edited", ErrCannotRename, key.category, key.name)
		}
		return syntax.Span{}, "", fmt.Errorf("%w: no component defines %s.%s", ErrCannotRename, key.category, key.name)
	}
	for _, d := range s.model.defs[key] {
		if d.listed {
			return syntax.Span{}, "", fmt.Errorf("%w: %s.%s is produced dynamically (its name is a string given to a function), so its definition cannot be edited as a name", ErrCannotRename, key.category, key.name)
		}
	}
	if c := s.model.cats[catKey{key.flake, key.perSys, key.category}]; c != nil && !c.closed {
		return syntax.Span{}, "", fmt.Errorf("%w: %s, so monoflake cannot tell whether a new name of %s is free", ErrCannotRename, s.openCause(c), key.category)
	}
	if _, err := s.renameSites(key); err != nil {
		return syntax.Span{}, "", err
	}
	if t.def != nil {
		return t.def.Def.Span, t.def.Name, nil
	}
	r := f.facts.Refs[t.ref]
	return r.Span, r.Name, nil
}

// Rename renames the output at offset and every use of it, across all
// components, returning the edits per file. It refuses names that are
// computed, invalid or already taken, and uses it cannot follow.
func Rename(s *Snapshot, file string, offset int, newName string) (map[string][]TextEdit, error) {
	if _, _, err := PrepareRename(s, file, offset); err != nil {
		return nil, err
	}
	t, f := s.at(file, offset)
	key, _ := s.keyOf(f.Path, t)
	if !validName.MatchString(newName) {
		return nil, fmt.Errorf("%w: %q is not a valid attribute name", ErrCannotRename, newName)
	}
	if newName == key.name {
		return map[string][]TextEdit{}, nil
	}
	if others := s.model.defs[outputKey{key.flake, key.perSys, key.category, newName}]; len(others) > 0 {
		o := others[0]
		return nil, fmt.Errorf("%w: %s.%s already exists (defined by component %s)", ErrCannotRename, key.category, newName, o.Component)
	}
	sites, err := s.renameSites(key)
	if err != nil {
		return nil, err
	}
	r := renamer{s: s, key: key, newName: newName, edits: map[string][]TextEdit{}, done: map[Location]bool{}}
	for _, d := range s.model.defs[key] {
		if err := r.definition(d); err != nil {
			return nil, err
		}
	}
	for _, site := range sites {
		r.inherit(site)
	}
	for _, loc := range s.model.refsTo[key] {
		if attr := attrAt(s.files[loc.File].Tree(), loc.Span); attr.Parent().Kind() == syntax.InheritedAttrs {
			// An inherit the model follows through a let-bound set.
			if !r.done[loc] {
				r.inherit(inheritSite{file: loc.File, attr: attr})
			}
			continue
		}
		r.replace(loc.File, loc.Span, newName)
	}
	for _, es := range r.edits {
		sort.Slice(es, func(i, j int) bool { return es[i].Span.Start < es[j].Span.Start })
	}
	return r.edits, nil
}

// renamer collects the edits of one rename. done marks the names already
// edited: an inherit site is also an indexed reference.
type renamer struct {
	s       *Snapshot
	key     outputKey
	newName string
	edits   map[string][]TextEdit
	done    map[Location]bool
}

func (r *renamer) replace(file string, span syntax.Span, text string) {
	if r.done[Location{file, span}] {
		return
	}
	r.done[Location{file, span}] = true
	r.edits[file] = append(r.edits[file], TextEdit{Span: span, NewText: text})
}

// definition renames where an output is defined.
func (r *renamer) definition(d *Output) error {
	f := r.s.files[d.Def.File]
	attr := attrAt(f.Tree(), d.Def.Span)
	if !attr.Valid() {
		return fmt.Errorf("%w: %s.%s is defined at %s by something other than an attribute name; rename it by hand", ErrCannotRename, r.key.category, r.key.name, r.s.whereSpan(d.Def))
	}
	if attr.Parent().Kind() == syntax.InheritedAttrs {
		// packages = { inherit (pkgs) old; }: the new name must still
		// take its value from old.
		r.rewriteInherit(d.Def.File, attr, r.newName, attr.Text())
		return nil
	}
	if err := r.recUses(d, attr); err != nil {
		return err
	}
	r.replace(d.Def.File, d.Def.Span, r.newName)
	return nil
}

// recUses refuses a definition inside a rec attribute set that refers to
// the attribute leading to it, or already uses the new name for something
// else, which the renamed attribute would capture.
func (r *renamer) recUses(d *Output, attr syntax.Node) error {
	path := attr.Parent()
	for path.Kind() == syntax.Attrpath && path.Parent().Kind() == syntax.Binding {
		set := path.Parent().Parent().Parent() // binding, binding set, attrset
		if set.Kind() == syntax.RecAttrset {
			bound := attrName(path.Children(syntax.FieldAttr)[0])
			if use, ok := variableNamed(set, bound, r.newName); ok {
				return fmt.Errorf("%w: %s defines %s.%s in a rec attribute set that refers to %s by name; rename it by hand", ErrCannotRename, r.s.where(d.Def.File, use), r.key.category, r.key.name, use.Text())
			}
		}
		// Climb only through attribute sets that are binding values:
		// `packages = rec { ... }` inside `perSystem = { ... }`.
		if set.Field() != syntax.FieldExpression || set.Parent().Kind() != syntax.Binding {
			break
		}
		path = set.Parent().Child(syntax.FieldAttrpath)
	}
	return nil
}

// inherit renames one `inherit (X) old;` that takes the output from its
// category.
func (r *renamer) inherit(site inheritSite) {
	if uses, ok := r.localUses(site); ok {
		r.replace(site.file, site.attr.Span(), r.newName)
		for _, u := range uses {
			r.replace(site.file, u.Span(), r.newName)
		}
		return
	}
	r.rewriteInherit(site.file, site.attr, site.attr.Text(), r.newName)
}

// rewriteInherit turns the inherited attr of `inherit (X) ... attr ...;`
// (or `inherit ... attr ...;`) into its own binding `bound = X.from;`,
// taking attr out of the inherit, or replacing it when attr is its only
// name.
func (r *renamer) rewriteInherit(file string, attr syntax.Node, bound, from string) {
	inh := attr.Parent().Parent()
	src := attr.Tree().Src
	value := from
	if x := inh.Child(syntax.FieldExpression); x.Valid() {
		text := string(src[x.Start():x.End()])
		if k := x.Kind(); k != syntax.Variable && k != syntax.Select {
			text = "(" + text + ")"
		}
		value = text + "." + from
	}
	binding := bound + " = " + value + ";"
	r.done[Location{file, attr.Span()}] = true
	if len(attr.Parent().Children(syntax.FieldAttr)) == 1 {
		r.edits[file] = append(r.edits[file], TextEdit{Span: inh.Span(), NewText: binding})
		return
	}
	start := attr.Start()
	for start > 0 && (src[start-1] == ' ' || src[start-1] == '\t' || src[start-1] == '\n' || src[start-1] == '\r') {
		start--
	}
	r.edits[file] = append(r.edits[file],
		TextEdit{Span: syntax.Span{Start: start, End: attr.End()}},
		TextEdit{Span: syntax.Span{Start: inh.End(), End: inh.End()}, NewText: " " + binding})
}

// localUses returns the uses of the name an inherit binds in a let, when
// they can all be renamed with it: the let binds nothing else under the
// new name, nothing inside it binds either name again, and no `inherit
// old;` turns the name into an attribute. ok is false otherwise.
func (r *renamer) localUses(site inheritSite) ([]syntax.Node, bool) {
	scope := site.attr.Parent().Parent().Parent().Parent() // inherited attrs, inherit, binding set, let
	if scope.Kind() != syntax.Let || site.attr.Kind() != syntax.Identifier {
		return nil, false
	}
	old := site.attr.Text()
	var uses []syntax.Node
	ok := true
	scope.Walk(func(n syntax.Node) bool {
		switch n.Kind() {
		case syntax.Variable:
			switch n.Text() {
			case old:
				uses = append(uses, n)
			case r.newName:
				ok = false
			}
		case syntax.Formal, syntax.Function:
			for _, id := range []syntax.Node{n.Child(syntax.FieldName), n.Child(syntax.FieldUniversal)} {
				if id.Is(old) || id.Is(r.newName) {
					ok = false
				}
			}
		case syntax.Inherit:
			for _, a := range n.Child(syntax.FieldAttrs).Children(syntax.FieldAttr) {
				if a.Is(old) {
					ok = false
				}
			}
			fallthrough
		case syntax.InheritFrom, syntax.Binding:
			if a := bindingNames(n); a != nil && binds(n.Parent().Parent()) {
				for _, name := range a {
					if (name.Is(old) && name != site.attr) || name.Is(r.newName) {
						ok = false
					}
				}
			}
		}
		return ok
	})
	return uses, ok
}

// bindingNames returns the names a binding or inherit introduces at its
// own level.
func bindingNames(n syntax.Node) []syntax.Node {
	switch n.Kind() {
	case syntax.Binding:
		if attrs := n.Child(syntax.FieldAttrpath).Children(syntax.FieldAttr); len(attrs) > 0 {
			return attrs[:1]
		}
	case syntax.Inherit, syntax.InheritFrom:
		return n.Child(syntax.FieldAttrs).Children(syntax.FieldAttr)
	}
	return nil
}

// binds reports whether the names bound in a set's bindings are variables
// in scope there: in a let or a rec set, not in a plain attribute set.
func binds(set syntax.Node) bool {
	switch set.Kind() {
	case syntax.Let, syntax.RecAttrset, syntax.LetAttrset:
		return true
	}
	return false
}

// variableNamed returns the first variable below n named one of names.
func variableNamed(n syntax.Node, names ...string) (syntax.Node, bool) {
	var found syntax.Node
	n.Walk(func(c syntax.Node) bool {
		if found.Valid() {
			return false
		}
		if c.Kind() == syntax.Variable {
			for _, name := range names {
				if c.Is(name) {
					found = c
				}
			}
		}
		return true
	})
	return found, found.Valid()
}

// attrAt returns the attribute name (in an attrpath or an inherit) at
// exactly span.
func attrAt(t *syntax.Tree, span syntax.Span) syntax.Node {
	var found syntax.Node
	t.Root().Walk(func(n syntax.Node) bool {
		if found.Valid() || n.End() < span.Start || n.Start() > span.End {
			return false
		}
		if k := n.Parent().Kind(); n.Span() == span && (k == syntax.Attrpath || k == syntax.InheritedAttrs) {
			found = n
		}
		return true
	})
	return found
}

// inheritSite is an `inherit (X) ... name ...;` whose X is the category
// set of the output being renamed; attr is name.
type inheritSite struct {
	file string
	attr syntax.Node
}

// renameSites returns every inherit that takes the output key names from
// its category, or why some use of the category cannot be followed.
func (s *Snapshot) renameSites(key outputKey) ([]inheritSite, error) {
	var sites []inheritSite
	for _, p := range s.Files() {
		f := s.files[p]
		if f.Tree() == nil || !mentionsOutputs(f.Tree().Src) {
			continue
		}
		var err error
		f.Tree().Root().Walk(func(n syntax.Node) bool {
			if err != nil {
				return false
			}
			var site syntax.Node
			site, err = s.categoryUse(p, n, key)
			if site.Valid() {
				sites = append(sites, inheritSite{file: p, attr: site})
			}
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	return sites, nil
}

// mentionsOutputs is a cheap test that a file may read flake outputs at
// all, so that a rename in a large repository walks only those.
func mentionsOutputs(src []byte) bool {
	return bytes.Contains(src, []byte("self")) || bytes.Contains(src, []byte("config")) || bytes.Contains(src, []byte("inputs"))
}

// categoryUse looks at one node of file: an expression that reaches the
// category set of key (self'.packages, self.packages.${system}, ...) and
// what is done with it. It returns the inherited name of an `inherit (set)
// name;` of key, or an error for a use that cannot be followed.
func (s *Snapshot) categoryUse(file string, n syntax.Node, key outputKey) (syntax.Node, error) {
	var base syntax.Node
	var attrs []syntax.Node
	switch n.Kind() {
	case syntax.Select:
		base, attrs = n.Child(syntax.FieldExpression), n.Child(syntax.FieldAttrpath).Children(syntax.FieldAttr)
	case syntax.Variable:
		if n.Parent().Kind() == syntax.Select && n.Field() == syntax.FieldExpression {
			return syntax.Node{}, nil // seen with its select
		}
		base = n
	default:
		return syntax.Node{}, nil
	}
	if base.Kind() != syntax.Variable {
		return syntax.Node{}, nil
	}
	p, ok := s.outputPath(file, base.Text(), attrs)
	if !ok || !p.mayBe(key) {
		return syntax.Node{}, nil
	}
	parent, field := n.Parent(), n.Field()
	for parent.Kind() == syntax.Parenthesized {
		parent, field = parent.Parent(), parent.Field()
	}
	set := n.Text()
	if k := min(p.setLen, len(attrs)); k > 0 {
		set = string(n.Tree().Src[n.Start():attrs[k-1].End()])
	}
	what := func(format string) error {
		return fmt.Errorf("%w: %s "+format+", so monoflake cannot see every use of %s.%s", ErrCannotRename, s.where(file, n), set, key.category, key.name)
	}
	switch {
	case parent.Kind() == syntax.With && field == syntax.FieldEnvironment:
		return syntax.Node{}, what("reads %s through with")
	case p.category == "" && aliases(parent, field, key.category):
		// Uses of the other name are not checked here.
		return syntax.Node{}, what("binds %s, or its category, to another name")
	case p.computed:
		return syntax.Node{}, what("selects from %s with a computed name")
	case len(attrs) > p.setLen:
		if isDynamic(attrs[p.setLen]) {
			return syntax.Node{}, what("selects from %s with a computed name")
		}
	case len(attrs) == p.setLen && p.category != "":
		if parent.Kind() == syntax.InheritFrom && field == syntax.FieldExpression {
			for _, a := range parent.Child(syntax.FieldAttrs).Children(syntax.FieldAttr) {
				if isDynamic(a) {
					return syntax.Node{}, what("inherits from %s with a computed name")
				}
				if attrName(a) == key.name {
					return a, nil
				}
			}
			return syntax.Node{}, nil
		}
		return syntax.Node{}, what("uses %s as a whole")
	case p.category != "":
		// self.packages without a system: every system's set at once.
		return syntax.Node{}, what("uses %s as a whole")
	}
	return syntax.Node{}, nil
}

// baseNames are the names a selection reaching outputs starts from.
var baseNames = map[string]bool{"self": true, "self'": true, "config": true, "inputs": true, "inputs'": true}

// aliases reports whether an expression that has not reached a category
// yet is bound to a name that renameSites does not follow: a let or rec
// binding of another name (`s = self';`), or `inherit (self') packages;`.
// A binding under a base's own name (`self = inputs.self;`) is followed.
func aliases(parent syntax.Node, field syntax.Field, category string) bool {
	switch {
	case parent.Kind() == syntax.Binding && field == syntax.FieldExpression:
		names := bindingNames(parent)
		return binds(parent.Parent().Parent()) && len(names) == 1 && !baseNames[attrName(names[0])]
	case parent.Kind() == syntax.InheritFrom && field == syntax.FieldExpression:
		for _, a := range parent.Child(syntax.FieldAttrs).Children(syntax.FieldAttr) {
			if isDynamic(a) || attrName(a) == category {
				return true
			}
		}
	}
	return false
}

// outputPath is how far a selection from self', self, config, inputs' or
// inputs reaches towards an output: whose outputs (the flake), which
// category once it names one, and how many attributes lead to the
// category's set of names (the category, after the system for flake-level
// per-system outputs, after the input's name for inputs).
type outputPath struct {
	flake      int
	flakeKnown bool
	category   string // "" while the path has not named one
	setLen     int
	// computed is set when the input or the category is a computed
	// name, which may be any.
	computed bool
	// perSystem is set for self', config and inputs', which reach
	// per-system outputs only.
	perSystem bool
}

// mayBe reports whether the path may lead to key's outputs.
func (p outputPath) mayBe(key outputKey) bool {
	return (!p.flakeKnown || p.flake == key.flake) && (p.category == "" || p.category == key.category) && (!p.perSystem || key.perSys)
}

// outputPath reads a selection `base.attrs` in file. ok is false when base
// is none of the names that lead to outputs, or leads to those of a flake
// outside the repository.
func (s *Snapshot) outputPath(file, base string, attrs []syntax.Node) (outputPath, bool) {
	fl := s.model.flakeOfFile(s, s.files[file])
	var p outputPath
	if fl != nil {
		p.flake, p.flakeKnown = fl.id, true
	}
	skip := 0
	p.perSystem = base == "self'" || base == "config" || base == "inputs'"
	switch base {
	case "self'", "config":
		p.setLen = 1
	case "self":
		p.setLen = 2
	case "inputs'", "inputs":
		if len(attrs) == 0 {
			p.flakeKnown = false
			return p, true
		}
		skip = 1
		if base == "inputs'" {
			p.setLen = 1
		} else {
			p.setLen = 2
		}
		if !(base == "inputs" && attrs[0].Is("self")) {
			if isDynamic(attrs[0]) {
				p.flakeKnown, p.computed = false, true
				return p, true
			}
			if fl == nil || fl.pathInputs[attrName(attrs[0])] == nil {
				return p, false // a flake from outside the repository
			}
			p.flake = fl.pathInputs[attrName(attrs[0])].id
		}
	default:
		return p, false
	}
	if len(attrs) <= skip {
		return p, true
	}
	cat := attrs[skip]
	if isDynamic(cat) {
		p.setLen += skip
		p.computed = true
		return p, true
	}
	p.category = attrName(cat)
	if !perSystemCategories[p.category] {
		if base == "self'" || base == "config" || base == "inputs'" {
			return p, false // config.foo, self'.foo: no output
		}
		p.setLen = 1 // flake-level: self.nixosModules.x
	}
	p.setLen += skip
	return p, true
}

// where names a node's file and line for a message.
func (s *Snapshot) where(file string, n syntax.Node) string {
	line, _ := n.Tree().Lines.Position(n.Start())
	return fmt.Sprintf("%s:%d", relPath(s.Root, file), line+1)
}

// whereSpan names a location's file and line for a message.
func (s *Snapshot) whereSpan(loc Location) string {
	lines := s.File(loc.File).Lines()
	if lines == nil {
		return relPath(s.Root, loc.File)
	}
	line, _ := lines.Position(loc.Span.Start)
	return fmt.Sprintf("%s:%d", relPath(s.Root, loc.File), line+1)
}

// openCause says where and why the model cannot list a category's names.
func (s *Snapshot) openCause(c *category) string {
	if len(c.causes) > 0 {
		return fmt.Sprintf("%s: %s", s.whereSpan(c.causes[0].Loc), c.causes[0].Why)
	}
	if len(c.gens) > 0 {
		return fmt.Sprintf("%s computes names", s.whereSpan(c.gens[0].Loc))
	}
	return "names are computed somewhere"
}
