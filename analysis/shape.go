package analysis

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// A shape is what the model knows, without evaluating, of the attribute
// names of a Nix value: the names written literally (with where), the
// shapes of some of their values, and everything that may add names it
// cannot list (Open). A shape whose Open, Files, Gens and Modules are empty
// is closed: its Names are all the names the value has.
type shape struct {
	Names []nameDef
	Sub   map[string]*shape
	// Any holds the names every key of this set has, for sets built per
	// system (packages.${system}.x, forAllSystems (system: { x = …; })).
	Any     *shape
	Open    []openCause
	Files   []fileValue // another file's value merges in (import, callPackage)
	Gens    []generator // names generated from a directory's entries
	Modules []int       // flake-parts modules (of this file) whose flake outputs merge in
	// NotSet marks a value known not to be an attribute set.
	NotSet bool
}

// nameDef is a name and where it is written.
type nameDef struct {
	Name string
	Span syntax.Span
	// Cond marks a name defined only when a condition holds.
	Cond bool
	// Listed marks a name given as a string in a list (genAttrs), not
	// written as an attribute.
	Listed bool
}

// openCause is a contributor of names the model cannot read, and why.
type openCause struct {
	Span syntax.Span
	Why  string
}

// fileValue is the value of another file: its top-level expression with
// Strip function layers applied (import ./x.nix args strips one), then
// Path selected.
type fileValue struct {
	Target string
	Strip  int
	Path   []string
	Span   syntax.Span
}

// generator is an expression that computes names, usually from a
// directory's entries (readDir); Dir is "" when the directory is unknown.
type generator struct {
	Span syntax.Span
	Dir  string
	Why  string
	// Keys are the names of literal attrsets given to the generating
	// function: the names it likely makes (flatMapAttrs { a = …; } f).
	Keys []nameDef
}

func (s *shape) closed() bool {
	return s != nil && len(s.Open) == 0 && len(s.Files) == 0 && len(s.Gens) == 0 && len(s.Modules) == 0
}

func (s *shape) open(n syntax.Node, why string) *shape {
	s.Open = append(s.Open, openCause{Span: n.Span(), Why: why})
	return s
}

func (s *shape) sub(name string) *shape {
	if s.Sub == nil {
		s.Sub = map[string]*shape{}
	}
	if s.Sub[name] == nil {
		s.Sub[name] = &shape{}
	}
	return s.Sub[name]
}

// conditional marks every name as defined only when a condition holds.
func (s *shape) conditional() *shape {
	for i := range s.Names {
		s.Names[i].Cond = true
	}
	return s
}

// merge adds o's names and causes to s (the `//` of two sets; a name in
// both keeps both definitions).
func (s *shape) merge(o *shape) *shape {
	if o == nil {
		return s
	}
	s.Names = append(s.Names, o.Names...)
	for k, v := range o.Sub {
		s.sub(k).merge(v)
	}
	if o.Any != nil {
		if s.Any == nil {
			s.Any = &shape{}
		}
		s.Any.merge(o.Any)
	}
	s.Open = append(s.Open, o.Open...)
	s.Files = append(s.Files, o.Files...)
	s.Gens = append(s.Gens, o.Gens...)
	s.Modules = append(s.Modules, o.Modules...)
	s.NotSet = s.NotSet && o.NotSet
	return s
}

// has reports whether name is among the literal names.
func (s *shape) has(name string) bool {
	if s == nil {
		return false
	}
	for _, n := range s.Names {
		if n.Name == name {
			return true
		}
	}
	return false
}

// selectName returns the shape of the value of s.name, as far as s knows:
// a literal definition, the per-key names, and every open contributor,
// which may define it too.
func (s *shape) selectName(name string) *shape {
	out := &shape{}
	if s == nil {
		return out
	}
	if sub := s.Sub[name]; sub != nil {
		out.merge(sub)
	} else if s.has(name) {
		// Known to exist, value not read that deep.
		out.Open = append(out.Open, openCause{Why: "not read"})
	}
	if s.Any != nil {
		out.merge(s.Any)
	}
	for _, f := range s.Files {
		f.Path = append(append([]string(nil), f.Path...), name)
		out.Files = append(out.Files, f)
	}
	out.Open = append(out.Open, s.Open...)
	out.Gens = append(out.Gens, s.Gens...)
	// The result of evalFlakeModule: its .config.flake is the module's
	// outputs.
	out.Modules = append(out.Modules, s.Modules...)
	return out
}

// evaluator computes shapes of one file's expressions, following the
// file's own bindings (let, rec, inherit) through its scopes.
type evaluator struct {
	path   string
	dir    string
	tree   *syntax.Tree
	scopes *scopes
	// onFramework is called for flake-framework calls met while reading a
	// shape (mkFlake, evalFlakeModule); it returns the module index whose
	// outputs merge in, or -1.
	onFramework func(call syntax.Node) int
	visiting    map[int32]bool
	budget      int
}

// maxShapeSteps bounds the work of reading one file's shapes, so that a
// pathological file costs a bounded amount and reads as open.
const maxShapeSteps = 200000

func newEvaluator(path string, tree *syntax.Tree, sc *scopes) *evaluator {
	return &evaluator{path: path, dir: filepath.Dir(path), tree: tree, scopes: sc, visiting: map[int32]bool{}, budget: maxShapeSteps}
}

// cause says why something cannot be read; where is the node's span,
// which the cause carries.
func (x *evaluator) cause(n syntax.Node, format string, args ...any) string {
	return fmt.Sprintf(format, args...)
}

// shapeOf reads the names of the value of n, computing the shapes of the
// values of names down to depth levels.
func (x *evaluator) shapeOf(n syntax.Node, depth int) *shape {
	n = n.Unparen()
	s := &shape{}
	if !n.Valid() {
		return s.open(n, "missing expression")
	}
	x.budget--
	if x.budget < 0 {
		return s.open(n, "too large to read")
	}
	if x.visiting[n.ID()] {
		return s.open(n, "defined in terms of itself")
	}
	x.visiting[n.ID()] = true
	defer delete(x.visiting, n.ID())
	switch n.Kind() {
	case syntax.Attrset, syntax.RecAttrset:
		x.attrsetShape(s, n, depth)
	case syntax.LetAttrset:
		// let { …; body = v; }: the value is body's.
		var body syntax.Node
		eachBinding(n, func(path []syntax.Node, v syntax.Node) {
			if len(path) == 1 && path[0].Is("body") {
				body = v
			}
		})
		return x.shapeOf(body, depth)
	case syntax.Let, syntax.With, syntax.Assert:
		return x.shapeOf(n.Child(syntax.FieldBody), depth)
	case syntax.Binary:
		switch n.Child(syntax.FieldOperator).Text() {
		case "//":
			s.merge(x.shapeOf(n.Child(syntax.FieldLeft), depth))
			s.merge(x.shapeOf(n.Child(syntax.FieldRight), depth))
		default:
			s.NotSet = true
		}
	case syntax.If:
		s.merge(x.shapeOf(n.Child(syntax.FieldConsequence), depth).conditional())
		s.merge(x.shapeOf(n.Child(syntax.FieldAlternative), depth).conditional())
		s.open(n, x.cause(n, "chosen by a condition"))
	case syntax.Variable:
		return x.variableShape(n, depth)
	case syntax.Select:
		return x.selectShape(n, depth)
	case syntax.Apply:
		return x.applyShape(n, depth)
	case syntax.List, syntax.String, syntax.IndentedString, syntax.Integer, syntax.Float, syntax.Path,
		syntax.HPath, syntax.SPath, syntax.URI, syntax.Function, syntax.Unary, syntax.HasAttr:
		s.NotSet = true
	default:
		s.open(n, x.cause(n, "not read"))
	}
	return s
}

func (x *evaluator) attrsetShape(s *shape, n syntax.Node, depth int) {
	eachBinding(n, func(path []syntax.Node, value syntax.Node) {
		if len(path) == 0 {
			return
		}
		name, ok := staticName(path[0])
		if !ok {
			// packages.${system} = …: the names below hold for every key.
			s.open(path[0], x.cause(path[0], "a computed name"))
			if depth > 0 {
				if s.Any == nil {
					s.Any = &shape{}
				}
				s.Any.merge(x.bindingShape(path[1:], value, depth-1))
			}
			return
		}
		s.Names = append(s.Names, nameDef{Name: name, Span: path[0].Span()})
		if depth > 0 {
			s.sub(name).merge(x.bindingShape(path[1:], value, depth-1))
		}
	})
}

// bindingShape is the shape of a binding's value after its first
// attribute: the rest of a dotted path (a.b.c = v), an inherit, or v.
func (x *evaluator) bindingShape(rest []syntax.Node, value syntax.Node, depth int) *shape {
	if len(rest) > 0 {
		s := &shape{}
		name, ok := staticName(rest[0])
		if !ok {
			s.open(rest[0], x.cause(rest[0], "a computed name"))
			if depth > 0 {
				s.Any = x.bindingShape(rest[1:], value, depth-1)
			}
			return s
		}
		s.Names = append(s.Names, nameDef{Name: name, Span: rest[0].Span()})
		if depth > 0 {
			s.sub(name).merge(x.bindingShape(rest[1:], value, depth-1))
		}
		return s
	}
	switch value.Kind() {
	case syntax.Inherit:
		// inherit a; — the value of the variable a, bound outside.
		return x.inheritedShape(value, depth)
	case syntax.InheritFrom:
		return &shape{Open: []openCause{{Span: value.Span(), Why: "inherited"}}}
	}
	return x.shapeOf(value, depth)
}

// inheritedShape is not followed: the names of an inherited value rarely
// matter, and following them would need the attribute inherited.
func (x *evaluator) inheritedShape(n syntax.Node, depth int) *shape {
	return &shape{Open: []openCause{{Span: n.Span(), Why: "inherited"}}}
}

func (x *evaluator) variableShape(v syntax.Node, depth int) *shape {
	s := &shape{}
	b := x.scopes.lookup(v)
	if b == nil {
		return s.open(v, x.cause(v, "%s is not read", v.Text()))
	}
	switch b.kind {
	case bindLet:
		if b.value.Kind() == syntax.Identifier {
			// `let inherit x; in`: the x bound outside.
			if outer := x.scopes.vars[b.value.ID()]; outer != nil && outer.value.Valid() && outer.kind == bindLet && outer.value.Kind() != syntax.Identifier {
				return x.shapeOf(outer.value, depth)
			}
			return s.open(v, x.cause(v, "%s is inherited", v.Text()))
		}
		if b.value.Valid() {
			return x.shapeOf(b.value, depth)
		}
		for _, d := range b.dotted {
			attrs := d.Child(syntax.FieldAttrpath).Children(syntax.FieldAttr)
			s.merge(x.bindingShape(attrs[1:], d.Child(syntax.FieldExpression), depth))
		}
		return s
	case bindInherit:
		return x.shapeOf(b.value, depth+1).selectName(b.def.Text())
	}
	return s.open(v, x.cause(v, "%s is an argument", v.Text()))
}

func (x *evaluator) selectShape(n syntax.Node, depth int) *shape {
	base, attrs := selectParts(n)
	s := x.shapeOf(base, depth+len(attrs))
	for _, a := range attrs {
		name, ok := staticName(a)
		if !ok {
			next := &shape{}
			if s.Any != nil {
				next.merge(s.Any)
			}
			next.open(a, x.cause(a, "a computed attribute"))
			s = next
			continue
		}
		s = s.selectName(name)
	}
	if d := n.Child(syntax.FieldDefault); d.Valid() {
		s.merge(x.shapeOf(d, depth))
		s.open(n, x.cause(n, "a fallback with or"))
	}
	return s
}

// Calls whose result the model reads.
func (x *evaluator) applyShape(n syntax.Node, depth int) *shape {
	s := &shape{}
	fn, args := callee(n)
	name := calleeName(fn)
	last := args[len(args)-1]
	switch {
	case x.onFramework != nil && (name == "mkFlake" || name == "evalFlakeModule"):
		if k := x.onFramework(n); k >= 0 {
			s.Modules = append(s.Modules, k)
			return s
		}
	case name == "import" || name == "scopedImport":
		target, ok := x.pathValue(args[0])
		if name == "scopedImport" && len(args) > 1 {
			target, ok = x.pathValue(args[1])
		}
		if ok {
			strip := len(args) - 1
			if name == "scopedImport" {
				strip--
			}
			s.Files = append(s.Files, fileValue{Target: target, Strip: strip, Span: n.Span()})
			return s
		}
	case name == "callPackage" || name == "callPackages" || name == "callPackageWith":
		target, ok := x.pathValue(args[len(args)-min(len(args), 2)])
		if ok {
			s.Files = append(s.Files, fileValue{Target: target, Strip: 1, Span: n.Span()})
			return s
		}
	case (name == "optionalAttrs" || name == "mkIf") && len(args) == 2:
		s.merge(x.shapeOf(args[1], depth).conditional())
		return s.open(n, x.cause(n, "only when a condition holds (%s)", name))
	case (name == "mkMerge" || name == "mkDefault" || name == "mkForce" || name == "mkOverride" || name == "mkBefore" || name == "mkAfter") && len(args) >= 1:
		if l := last.Unparen(); l.Kind() == syntax.List {
			for _, el := range l.Children(syntax.FieldElement) {
				s.merge(x.shapeOf(el, depth))
			}
		} else {
			s.merge(x.shapeOf(last, depth))
		}
		if name == "mkMerge" {
			s.open(n, x.cause(n, "merged by mkMerge"))
		}
		return s
	case name == "recursiveUpdate" && len(args) == 2:
		s.merge(x.shapeOf(args[0], depth))
		return s.merge(x.shapeOf(args[1], depth))
	case name == "mapAttrs" && len(args) == 2:
		// The names are those of the set mapped; their values are unknown.
		names := x.shapeOf(args[1], 0)
		s.Names, s.Open, s.Files, s.Gens = names.Names, names.Open, names.Files, names.Gens
		return s
	case name == "filterAttrs" && len(args) == 2:
		names := x.shapeOf(args[1], 0)
		s.Names = names.Names
		return s.open(n, x.cause(n, "filtered by filterAttrs"))
	case name == "genAttrs" && len(args) == 2:
		if list := args[0].Unparen(); list.Kind() == syntax.List {
			for _, el := range list.Children(syntax.FieldElement) {
				if v, ok := stringLiteral(el.Unparen()); ok {
					s.Names = append(s.Names, nameDef{Name: v, Span: el.Span(), Listed: true})
				} else {
					s.open(el, x.cause(el, "a computed name"))
				}
			}
			if f := args[1].Unparen(); f.Kind() == syntax.Function && depth > 0 {
				body := x.shapeOf(f.Child(syntax.FieldBody), depth-1)
				for _, nd := range s.Names {
					s.sub(nd.Name).merge(body)
				}
			}
			return s
		}
	}
	perSystem, transposing := isPerSystemHelper(name), isTransposingHelper(name)
	if kind, local := x.localHelper(fn); local {
		// A helper the file defines is judged by what it calls, not by
		// its name: `eachSystem = f: genAttrs systems (s: f …)` builds a
		// set per system, unlike flake-utils' eachSystem.
		perSystem, transposing = kind != helperUnknown, kind == helperTransposing
	}
	if f := last.Unparen(); f.Kind() == syntax.Function && perSystem {
		body := x.shapeOf(f.Child(syntax.FieldBody), max(depth, 1))
		if transposing {
			// flake-utils' eachSystem: { packages.x = …; } for each system
			// becomes packages.<system>.x.
			for _, nd := range body.Names {
				inner := body.Sub[nd.Name]
				s.Names = append(s.Names, nd)
				s.sub(nd.Name).Any = inner
			}
			s.Open = append(s.Open, body.Open...)
			s.Files = append(s.Files, body.Files...)
			return s
		}
		// The systems are not listed, but every one has the body's names.
		s.Any = body
		return s
	}
	if dir, span, ok := x.readDirIn(n); ok {
		s.Gens = append(s.Gens, generator{Span: nameOf(fn).Span(), Dir: dir, Why: x.cause(span, "names from a directory's entries")})
		return s
	}
	label := name
	if label == "" {
		label = "a function"
	}
	// A function given a literal attrset and a function maps the set's
	// names: those are the names it likely makes.
	var keys []nameDef
	hasFn := false
	for _, a := range args {
		switch a.Unparen().Kind() {
		case syntax.Attrset, syntax.RecAttrset:
			keys = append(keys, x.shapeOf(a, 0).Names...)
		case syntax.Function:
			hasFn = true
		}
	}
	if hasFn && len(keys) > 0 {
		s.Gens = append(s.Gens, generator{Span: nameOf(fn).Span(), Why: x.cause(n, "names computed by %s", label), Keys: keys})
		return s
	}
	return s.open(n, x.cause(n, "computed by %s", label))
}

// nameOf is the node naming a function: the last attribute of a select,
// or the expression itself.
func nameOf(fn syntax.Node) syntax.Node {
	if _, attrs := selectParts(fn); len(attrs) > 0 {
		return attrs[len(attrs)-1]
	}
	return fn
}

// isPerSystemHelper recognises the helpers flakes use to build a set per
// system from a function of the system: forAllSystems, forEachSystem,
// eachSystem, genAttrs systems, and the like.
func isPerSystemHelper(name string) bool {
	l := strings.ToLower(name)
	return strings.Contains(l, "system") && (strings.HasPrefix(l, "for") || strings.HasPrefix(l, "each") || strings.HasPrefix(l, "gen") || strings.HasPrefix(l, "map")) ||
		name == "genAttrs"
}

// helperKind is what a helper function defined in the file does.
type helperKind uint8

const (
	helperUnknown     helperKind = iota
	helperPerSystem              // a set with the function's result per system
	helperTransposing            // flake-utils' categories of sets per system
)

// localHelper reports whether fn is a variable the file binds with let,
// and then what it does: a function is judged by the call its body makes,
// a partial application (`eachSystem = genAttrs systems`) by its callee,
// an alias (`each = flake-utils.lib.eachDefaultSystem`) by the name it
// aliases.
func (x *evaluator) localHelper(fn syntax.Node) (helperKind, bool) {
	v := fn.Unparen()
	if v.Kind() != syntax.Variable {
		return helperUnknown, false
	}
	b := x.scopes.lookup(v)
	if b == nil || b.kind != bindLet || !b.value.Valid() {
		return helperUnknown, false
	}
	var inner syntax.Node
	switch val := b.value.Unparen(); val.Kind() {
	case syntax.Function:
		body, _ := functionBody(val)
		if body = letBody(body); body.Kind() != syntax.Apply {
			return helperUnknown, true
		}
		inner, _ = callee(body)
	case syntax.Apply:
		inner, _ = callee(val)
	case syntax.Select, syntax.Variable:
		inner = val
	default:
		return helperUnknown, true
	}
	if iv := inner.Unparen(); iv.Kind() == syntax.Variable {
		if ib := x.scopes.lookup(iv); ib != nil && ib.kind == bindLet {
			return helperUnknown, true // a helper of a helper: not followed
		}
	}
	switch name := calleeName(inner); {
	case isTransposingHelper(name):
		return helperTransposing, true
	case isPerSystemHelper(name):
		return helperPerSystem, true
	}
	return helperUnknown, true
}

// isTransposingHelper: flake-utils' eachSystem and eachDefaultSystem turn
// a set of categories per system into categories of sets per system.
func isTransposingHelper(name string) bool {
	return name == "eachSystem" || name == "eachDefaultSystem" || name == "eachSystemPassThrough"
}

// readDirIn finds `readDir DIR` inside n and resolves DIR.
func (x *evaluator) readDirIn(n syntax.Node) (dir string, at syntax.Node, ok bool) {
	n.Walk(func(c syntax.Node) bool {
		if ok {
			return false
		}
		if c.Kind() == syntax.Apply && calleeName(c.Child(syntax.FieldFunction)) == "readDir" {
			at, ok = c, true
			dir, _ = x.pathValue(c.Child(syntax.FieldArgument))
			return false
		}
		if c.Kind() == syntax.Select || c.Kind() == syntax.Variable {
			// `builtins.readDir` passed to lib.pipe.
			if calleeName(c) == "readDir" {
				at, ok = c, true
				return false
			}
		}
		return true
	})
	return dir, at, ok
}

// pathValue resolves an expression to an absolute path when it is a path
// the file can name without evaluation: a literal, `base + /x` or
// `base + "/x"` on such a path, or a variable bound to one.
func (x *evaluator) pathValue(n syntax.Node) (string, bool) {
	n = n.Unparen()
	switch n.Kind() {
	case syntax.Path:
		return x.literalPath(n)
	case syntax.Binary:
		if n.Child(syntax.FieldOperator).Text() != "+" {
			return "", false
		}
		base, ok := x.pathValue(n.Child(syntax.FieldLeft))
		if !ok {
			return "", false
		}
		right := n.Child(syntax.FieldRight).Unparen()
		var rest string
		switch right.Kind() {
		case syntax.String:
			if rest, ok = stringLiteral(right); !ok {
				return "", false
			}
		case syntax.Path:
			frag := right.FirstChild()
			if frag.Kind() != syntax.PathFragment || frag.NextSibling().Valid() || !strings.HasPrefix(frag.Text(), "/") {
				return "", false
			}
			rest = frag.Text()
		default:
			return "", false
		}
		return filepath.Join(base, rest), true
	case syntax.Variable:
		b := x.scopes.lookup(n)
		if b == nil || b.kind != bindLet || !b.value.Valid() || b.value.Kind() == syntax.Identifier || x.visiting[b.value.ID()] {
			return "", false
		}
		x.visiting[b.value.ID()] = true
		defer delete(x.visiting, b.value.ID())
		return x.pathValue(b.value)
	}
	return "", false
}

// resolveRelative resolves a path's text against the file's directory.
func (x *evaluator) resolveRelative(text string) (string, bool) {
	switch {
	case text == "" || strings.HasPrefix(text, "~"):
		return "", false
	case filepath.IsAbs(text):
		return filepath.Clean(text), true
	}
	return filepath.Join(x.dir, text), true
}

// literalPath resolves a path literal without interpolation against the
// file's directory; home paths (~/x) and absolute ones outside any
// repository are returned only when absolute.
func (x *evaluator) literalPath(n syntax.Node) (string, bool) {
	frag := n.FirstChild()
	if frag.Kind() != syntax.PathFragment || frag.NextSibling().Valid() {
		return "", false
	}
	return x.resolveRelative(frag.Text())
}
