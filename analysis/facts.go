package analysis

import (
	"path/filepath"
	"strings"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// facts is what one file says, read from its syntax tree alone. Everything
// that involves other files (which component, whether a reference resolves)
// is computed later from the facts of all files, so an edit re-reads only
// the edited file.
type facts struct {
	outputs []outputDef
	// open lists categories whose names this file computes (mapAttrs,
	// readDir, ...): no reference into them can be called unknown.
	open []string
	refs []Reference
	// imports are the modules this file adds to the flake's module tree
	// (entries of an `imports` list), resolved to files.
	imports []moduleImport
	// importValues are the spans of the values of `imports = ...`
	// bindings, in source order.
	importValues []syntax.Span
	// computedImports are directories whose every .nix file is imported
	// (import-tree ./dir, readDir ./dir).
	computedImports []string
	// pathInputs are `path:` flake inputs of a flake.nix: name -> directory.
	pathInputs map[string]string
	// flakeOutputs is set for a flake.nix whose outputs are read directly
	// (a sub-flake without flake-parts).
	dupAttrs []Diagnostic
	// module reports whether the file looks like a flake module (it has a
	// perSystem, flake or imports attribute at its top level).
	module bool
}

type outputDef struct {
	Category  string
	Name      string
	FlakeOnly bool
	System    string
	Span      syntax.Span
}

type moduleImport struct {
	Span   syntax.Span
	Target string
}

// extractor reads facts from one tree.
type extractor struct {
	path string
	dir  string
	tree *syntax.Tree
	f    *facts
}

func extractFacts(path string, tree *syntax.Tree) *facts {
	x := &extractor{path: path, dir: filepath.Dir(path), tree: tree, f: &facts{}}
	root := tree.Root().FirstNamed()
	x.references(tree.Root())
	x.duplicateAttrs(tree.Root())
	if filepath.Base(path) == "flake.nix" {
		x.flakeFile(root)
	}
	x.module(root)
	// Paths the module tree imports are imports, however deeply the list
	// is wrapped (lib.optional, ++, filter pathExists).
	imported := map[syntax.Span]bool{}
	for _, imp := range x.f.imports {
		imported[imp.Span] = true
	}
	for i := range x.f.refs {
		if r := &x.f.refs[i]; r.Kind == FileRef && imported[r.Loc.Span] {
			r.Kind = ImportRef
		}
	}
	return x.f
}

// --- modules and outputs -----------------------------------------------

// module reads a flake-parts style module: an attrset, or a function
// returning one, with imports, perSystem and flake attributes. A function
// module without perSystem whose body defines packages/devShells directly is
// read as a per-system module (adios-flake style).
func (x *extractor) module(n syntax.Node) {
	body, formals := functionBody(n)
	set := attrsetOf(body)
	if !set.Valid() {
		// mkFlake { ... } { module }: a flake.nix calls mkFlake with the
		// top-level module as its last argument.
		x.mkFlakeCalls(n)
		return
	}
	hasPerSystem := false
	eachBinding(set, nil, func(path []syntax.Node, value syntax.Node, dynamic bool) {
		if len(path) == 0 || dynamic {
			return
		}
		switch {
		case path[0].Is("imports") && len(path) == 1:
			x.f.module = true
			x.importsList(value)
		case path[0].Is("perSystem") && len(path) == 1:
			x.f.module = true
			hasPerSystem = true
			b, _ := functionBody(value)
			x.perSystem(attrsetOf(b), nil)
		case path[0].Is("perSystem"):
			// perSystem.packages.x = ...: rare, but the same thing.
			x.f.module = true
			hasPerSystem = true
			x.perSystemValue(path[1:], value)
		case path[0].Is("flake"):
			x.f.module = true
			x.flakeLevel(path[1:], value)
		}
	})
	if !hasPerSystem && formals.perSystemArgs && set.Valid() {
		x.perSystem(set, nil)
		x.f.module = true
	}
	x.mkFlakeCalls(n)
}

// mkFlakeCalls finds mkFlake-like calls below n (flake-parts' mkFlake and
// wrappers of it, evalFlakeModule) and reads their module argument.
func (x *extractor) mkFlakeCalls(n syntax.Node) {
	n.Walk(func(c syntax.Node) bool {
		if c.Kind() != syntax.Apply {
			return true
		}
		fn := c.Child(syntax.FieldFunction)
		name := calleeName(fn)
		if name == "mkFlake" || name == "evalFlakeModule" {
			arg := c.Child(syntax.FieldArgument).Unparen()
			if attrsetOf(arg).Valid() || arg.Kind() == syntax.Function {
				x.module(arg)
			}
			return false
		}
		return true
	})
}

// calleeName returns the last attribute of the function being applied,
// looking through curried applications: `a.lib.mkFlake x` -> "mkFlake".
func calleeName(fn syntax.Node) string {
	for fn.Kind() == syntax.Apply {
		fn = fn.Child(syntax.FieldFunction)
	}
	fn = fn.Unparen()
	switch fn.Kind() {
	case syntax.Variable:
		return fn.Text()
	case syntax.Select:
		attrs := fn.Child(syntax.FieldAttrpath).Children(syntax.FieldAttr)
		if len(attrs) > 0 {
			return attrs[len(attrs)-1].Text()
		}
	}
	return ""
}

func (x *extractor) perSystem(set syntax.Node, prefix []syntax.Node) {
	if !set.Valid() {
		return
	}
	eachBinding(set, prefix, func(path []syntax.Node, value syntax.Node, dynamic bool) {
		if len(path) == 0 || !perSystemCategories[path[0].Text()] {
			return
		}
		if dynamic {
			x.open(path[0].Text())
			return
		}
		x.perSystemValue(path, value)
	})
}

// perSystemValue records the outputs of a binding `cat.name = v`,
// `cat = { ... }` or `cat = <computed>` inside perSystem.
func (x *extractor) perSystemValue(path []syntax.Node, value syntax.Node) {
	if len(path) == 0 {
		return
	}
	cat := path[0].Text()
	if !perSystemCategories[cat] {
		return
	}
	if cat == Formatter && len(path) == 1 {
		x.f.outputs = append(x.f.outputs, outputDef{Category: cat, Name: cat, Span: path[0].Span()})
		return
	}
	if len(path) >= 2 {
		x.f.outputs = append(x.f.outputs, outputDef{Category: cat, Name: attrName(path[1]), Span: path[1].Span()})
		return
	}
	x.categoryValue(cat, value, "", false)
}

// categoryValue reads `cat = value`: literal names from attrsets (also
// inside `//` merges), and the category becomes open when any part is
// computed.
func (x *extractor) categoryValue(cat string, value syntax.Node, system string, flakeOnly bool) {
	value = value.Unparen()
	switch {
	case attrsetOf(value).Valid():
		eachBinding(attrsetOf(value), nil, func(path []syntax.Node, _ syntax.Node, dynamic bool) {
			if dynamic || len(path) == 0 {
				x.open(cat)
				return
			}
			x.f.outputs = append(x.f.outputs, outputDef{Category: cat, Name: attrName(path[0]), Span: path[0].Span(), FlakeOnly: flakeOnly, System: system})
		})
		if value.Kind() == syntax.RecAttrset || value.Kind() == syntax.Attrset {
			return
		}
		x.open(cat)
	case value.Kind() == syntax.Binary && value.Child(syntax.FieldOperator).Is("//"):
		x.categoryValue(cat, value.Child(syntax.FieldLeft), system, flakeOnly)
		x.categoryValue(cat, value.Child(syntax.FieldRight), system, flakeOnly)
	default:
		x.open(cat)
	}
}

func (x *extractor) open(cat string) {
	for _, c := range x.f.open {
		if c == cat {
			return
		}
	}
	x.f.open = append(x.f.open, cat)
}

// flakeLevel reads `flake.<cat>.<name>` and `flake.<cat>.<system>.<name>`.
func (x *extractor) flakeLevel(path []syntax.Node, value syntax.Node) {
	if len(path) == 0 {
		set := attrsetOf(value)
		if !set.Valid() {
			return
		}
		eachBinding(set, nil, func(p []syntax.Node, v syntax.Node, dynamic bool) {
			if !dynamic {
				x.flakeLevel(p, v)
			}
		})
		return
	}
	x.flakeOutput(path, value)
}

// flakeOutput records a flake output given as an attribute path below the
// flake's outputs: per-system categories carry a literal system.
func (x *extractor) flakeOutput(path []syntax.Node, value syntax.Node) {
	cat := path[0].Text()
	if perSystemCategories[cat] {
		switch len(path) {
		case 1:
			set := attrsetOf(value.Unparen())
			if !set.Valid() {
				x.systemsValue(cat, value)
				return
			}
			eachBinding(set, nil, func(p []syntax.Node, v syntax.Node, dynamic bool) {
				if dynamic {
					x.open(cat)
					return
				}
				x.flakeOutput(append([]syntax.Node{path[0]}, p...), v)
			})
		case 2:
			x.categoryValue(cat, value, attrName(path[1]), true)
		default:
			x.f.outputs = append(x.f.outputs, outputDef{Category: cat, Name: attrName(path[2]), System: attrName(path[1]), FlakeOnly: true, Span: path[2].Span()})
		}
		return
	}
	if len(path) >= 2 {
		x.f.outputs = append(x.f.outputs, outputDef{Category: cat, Name: attrName(path[1]), FlakeOnly: true, Span: path[1].Span()})
		return
	}
	x.categoryValue(cat, value, "", true)
}

// systemsValue reads `packages = forAllSystems (system: { a = ...; })` and
// `packages = genAttrs systems (system: { ... })`: the names come from the
// function's body; anything else opens the category.
func (x *extractor) systemsValue(cat string, value syntax.Node) {
	value = value.Unparen()
	if value.Kind() == syntax.Apply {
		if arg := value.Child(syntax.FieldArgument).Unparen(); arg.Kind() == syntax.Function {
			body, _ := functionBody(arg)
			x.categoryValue(cat, body, "", true)
			return
		}
	}
	x.open(cat)
}

// flakeFile reads what only a flake.nix has: path inputs, and outputs
// given directly by the outputs function (a sub-flake without flake-parts).
func (x *extractor) flakeFile(root syntax.Node) {
	set := attrsetOf(root)
	if !set.Valid() {
		return
	}
	eachBinding(set, nil, func(path []syntax.Node, value syntax.Node, dynamic bool) {
		if dynamic || len(path) == 0 {
			return
		}
		switch {
		case path[0].Is("inputs"):
			x.inputs(path[1:], value)
		case path[0].Is("outputs") && len(path) == 1:
			body, _ := functionBody(value)
			body = letBody(body)
			if out := attrsetOf(body); out.Valid() {
				eachBinding(out, nil, func(p []syntax.Node, v syntax.Node, dynamic bool) {
					if !dynamic && len(p) > 0 {
						x.flakeOutput(p, v)
					}
				})
			}
		}
	})
}

// inputs reads `inputs.NAME.url = "path:./x"`, `inputs.NAME = { url = ...; }`
// and `inputs = { NAME.url = ...; }`.
func (x *extractor) inputs(path []syntax.Node, value syntax.Node) {
	if len(path) == 0 {
		if set := attrsetOf(value); set.Valid() {
			eachBinding(set, nil, func(p []syntax.Node, v syntax.Node, dynamic bool) {
				if !dynamic {
					x.inputs(p, v)
				}
			})
		}
		return
	}
	if len(path) == 1 {
		if set := attrsetOf(value); set.Valid() {
			eachBinding(set, nil, func(p []syntax.Node, v syntax.Node, dynamic bool) {
				if !dynamic && len(p) == 1 && p[0].Is("url") {
					x.pathInput(attrName(path[0]), v)
				}
			})
		} else if value.Kind() == syntax.String {
			// inputs.NAME = "path:./x" is not valid Nix flake syntax, but
			// `inputs.NAME.url` is the common form handled below.
		}
		return
	}
	if len(path) == 2 && path[1].Is("url") {
		x.pathInput(attrName(path[0]), value)
	}
}

func (x *extractor) pathInput(name string, value syntax.Node) {
	s, ok := stringLiteral(value)
	if !ok || !strings.HasPrefix(s, "path:") {
		return
	}
	p := strings.TrimPrefix(s, "path:")
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(x.dir, p)
	}
	if x.f.pathInputs == nil {
		x.f.pathInputs = map[string]string{}
	}
	x.f.pathInputs[name] = filepath.Clean(p)
}

// importsList reads the modules of an `imports = [ ... ]` value, looking
// through the usual wrappers: `lib.optional c ./x`, `filter pathExists [...]`,
// `++` concatenations, and computed imports of whole directories.
func (x *extractor) importsList(value syntax.Node) {
	x.f.importValues = append(x.f.importValues, value.Span())
	value.Walk(func(n syntax.Node) bool {
		switch n.Kind() {
		case syntax.Path:
			if target, ok := x.pathTarget(n); ok {
				if isDirImportCall(n) {
					x.f.computedImports = append(x.f.computedImports, target)
					return false
				}
				x.f.imports = append(x.f.imports, moduleImport{Span: n.Span(), Target: target})
			} else if dir, ok := x.interpolatedDir(n); ok {
				// map (f: ./dir/${f}) (attrNames (readDir ./dir))
				x.f.computedImports = append(x.f.computedImports, dir)
			}
			return false
		case syntax.Function, syntax.Attrset, syntax.RecAttrset:
			// an inline module: its own imports are read when it is
			// visited as a module.
			if n.Kind() != syntax.Function || n.Parent().Kind() == syntax.List {
				x.module(n)
				return false
			}
		}
		return true
	})
}

// isDirImportCall reports whether a path is the argument of a function that
// imports a whole directory: import-tree ./x, readDir ./x, listFilesRecursive ./x.
func isDirImportCall(path syntax.Node) bool {
	for n := path.Parent(); n.Valid(); n = n.Parent() {
		if n.Kind() == syntax.Apply {
			switch calleeName(n.Child(syntax.FieldFunction)) {
			case "import-tree", "readDir", "listFilesRecursive", "filesystem.listFilesRecursive":
				return true
			}
		}
		if n.Kind() == syntax.List || n.Kind() == syntax.Binding {
			return false
		}
	}
	return false
}

// interpolatedDir returns ./dir for a path ./dir/${f}.
func (x *extractor) interpolatedDir(n syntax.Node) (string, bool) {
	first := n.FirstChild()
	if first.Kind() != syntax.PathFragment || !first.NextSibling().Valid() {
		return "", false
	}
	text := first.Text()
	if !strings.HasSuffix(text, "/") {
		return "", false
	}
	return x.resolvePath(strings.TrimSuffix(text, "/"))
}

// --- references ----------------------------------------------------------

// references indexes every output reference and path literal of the file.
func (x *extractor) references(root syntax.Node) {
	root.Walk(func(n syntax.Node) bool {
		switch n.Kind() {
		case syntax.Select:
			x.selectRef(n)
		case syntax.InheritFrom:
			x.inheritRef(n)
		case syntax.Path:
			x.pathRef(n)
			return false
		}
		return true
	})
}

// selectRef recognises the ways a module names an output:
//
//	self'.packages.X          config.packages.X (per-system config)
//	self.packages.<sys>.X     inputs.self.packages.<sys>.X
//	self.nixosModules.X       inputs'.NAME.packages.X
//	inputs.NAME.packages.<sys>.X
func (x *extractor) selectRef(n syntax.Node) {
	base := n.Child(syntax.FieldExpression)
	if base.Kind() != syntax.Variable {
		return
	}
	attrs := n.Child(syntax.FieldAttrpath).Children(syntax.FieldAttr)
	name := base.Text()
	input := ""
	switch name {
	case "self'":
		x.perSystemRef(attrs, "")
		return
	case "config":
		if len(attrs) >= 2 && perSystemCategories[attrs[0].Text()] {
			x.perSystemRef(attrs, "")
		}
		return
	case "inputs'":
		if len(attrs) >= 3 {
			x.perSystemRef(attrs[1:], attrName(attrs[0]))
		}
		return
	case "inputs":
		if len(attrs) < 2 {
			return
		}
		if !attrs[0].Is("self") {
			input = attrName(attrs[0])
		}
		attrs = attrs[1:]
	case "self":
	default:
		return
	}
	x.flakeRef(attrs, input)
}

func (x *extractor) perSystemRef(attrs []syntax.Node, input string) {
	if len(attrs) < 2 || !perSystemCategories[attrs[0].Text()] || isDynamic(attrs[1]) {
		return
	}
	x.addOutputRef(attrs[0].Text(), attrs[1], input)
}

// flakeRef reads the attributes after `self` (or an input): per-system
// categories are followed by a system, which may be interpolated.
func (x *extractor) flakeRef(attrs []syntax.Node, input string) {
	if len(attrs) < 2 {
		return
	}
	cat := attrs[0].Text()
	if perSystemCategories[cat] {
		if len(attrs) < 3 || isDynamic(attrs[2]) {
			return
		}
		x.addOutputRef(cat, attrs[2], input)
		return
	}
	if isDynamic(attrs[0]) || isDynamic(attrs[1]) || cat == "outPath" || cat == "inputs" || cat == "lib" {
		return
	}
	x.addOutputRef(cat, attrs[1], input)
}

func (x *extractor) addOutputRef(cat string, name syntax.Node, input string) {
	x.f.refs = append(x.f.refs, Reference{
		Kind:     OutputRef,
		Loc:      Location{File: x.path, Span: name.Span()},
		Category: cat,
		Name:     attrName(name),
		Input:    input,
	})
}

// inheritRef reads `inherit (self'.packages) a b;` and `inherit (config.packages) a;`.
func (x *extractor) inheritRef(n syntax.Node) {
	from := n.Child(syntax.FieldExpression).Unparen()
	if from.Kind() != syntax.Select {
		return
	}
	base := from.Child(syntax.FieldExpression)
	attrs := from.Child(syntax.FieldAttrpath).Children(syntax.FieldAttr)
	if len(attrs) != 1 || !(base.Is("self'") || base.Is("config")) || !perSystemCategories[attrs[0].Text()] {
		return
	}
	for _, a := range n.Child(syntax.FieldAttrs).Children(syntax.FieldAttr) {
		if !isDynamic(a) {
			x.addOutputRef(attrs[0].Text(), a, "")
		}
	}
}

// pathRef records a path literal: an import when it is imported as code,
// a plain file reference otherwise.
func (x *extractor) pathRef(n syntax.Node) {
	target, ok := x.pathTarget(n)
	if !ok {
		return
	}
	kind := FileRef
	if isImported(n) {
		kind = ImportRef
	}
	x.f.refs = append(x.f.refs, Reference{Kind: kind, Loc: Location{File: x.path, Span: n.Span()}, Target: target, optional: isOptional(n)})
}

// isOptional reports whether a path is tested for existence before use
// (`filter pathExists [ ... ]`, `lib.optional (pathExists ./x) ./x`), so its
// absence is expected.
func isOptional(path syntax.Node) bool {
	for n := path.Parent(); n.Valid(); n = n.Parent() {
		switch n.Kind() {
		case syntax.Apply:
			for fn := n; fn.Kind() == syntax.Apply; fn = fn.Child(syntax.FieldFunction).Unparen() {
				if calleeName(fn.Child(syntax.FieldFunction)) == "pathExists" || calleeName(fn.Child(syntax.FieldArgument)) == "pathExists" {
					return true
				}
			}
		case syntax.List, syntax.Parenthesized, syntax.Binary, syntax.If:
		default:
			return false
		}
	}
	return false
}

// isImported reports whether a path is the argument of import/callPackage
// or an entry of an imports list.
func isImported(path syntax.Node) bool {
	p := path.Parent()
	for p.Kind() == syntax.Parenthesized {
		p = p.Parent()
	}
	switch p.Kind() {
	case syntax.Apply:
		switch calleeName(p.Child(syntax.FieldFunction)) {
		case "import", "callPackage", "callPackages":
			return true
		}
	case syntax.List:
		if b := p.Parent(); b.Kind() == syntax.Binding {
			attrs := b.Child(syntax.FieldAttrpath).Children(syntax.FieldAttr)
			return len(attrs) > 0 && attrs[len(attrs)-1].Is("imports")
		}
	}
	return false
}

// pathTarget resolves a literal relative or absolute path (no
// interpolation) against the file's directory.
func (x *extractor) pathTarget(n syntax.Node) (string, bool) {
	if n.Kind() != syntax.Path {
		return "", false
	}
	frag := n.FirstChild()
	if frag.Kind() != syntax.PathFragment || frag.NextSibling().Valid() {
		return "", false
	}
	return x.resolvePath(frag.Text())
}

func (x *extractor) resolvePath(text string) (string, bool) {
	if text == "" {
		return "", false
	}
	if filepath.IsAbs(text) {
		return filepath.Clean(text), true
	}
	return filepath.Join(x.dir, text), true
}

// --- duplicate attributes ----------------------------------------------

// duplicateAttrs reports attributes defined twice in one attrset, with the
// same rules as Nix: nested literal attrsets merge (`a = { x = 1; }; a.y = 2;`
// is fine), anything else twice is an error.
func (x *extractor) duplicateAttrs(root syntax.Node) {
	root.Walk(func(n syntax.Node) bool {
		switch n.Kind() {
		case syntax.Attrset, syntax.RecAttrset, syntax.Let, syntax.LetAttrset:
			if set := n.FirstNamedOf(syntax.BindingSet); set.Valid() {
				x.checkBindingSet(set)
			}
		}
		return true
	})
}

type attrTrie struct {
	leaf     bool
	children map[string]*attrTrie
}

func (x *extractor) checkBindingSet(set syntax.Node) {
	root := &attrTrie{}
	var add func(t *attrTrie, path []syntax.Node, value syntax.Node)
	add = func(t *attrTrie, path []syntax.Node, value syntax.Node) {
		for i, a := range path {
			if isDynamic(a) {
				return
			}
			name := attrName(a)
			if t.leaf {
				return // already reported at the conflicting prefix
			}
			if t.children == nil {
				t.children = map[string]*attrTrie{}
			}
			child, seen := t.children[name]
			last := i == len(path)-1
			mergeable := last && isLiteralAttrset(value)
			switch {
			case seen && (child.leaf || last && !mergeable):
				x.f.dupAttrs = append(x.f.dupAttrs, Diagnostic{
					Loc:      Location{File: x.path, Span: a.Span()},
					Severity: SeverityError,
					Code:     CodeDuplicateAttr,
					Message:  "attribute '" + dottedName(path[:i+1]) + "' is already defined",
				})
				return
			case !seen:
				child = &attrTrie{}
				t.children[name] = child
			}
			t = child
			if last {
				if mergeable {
					eachDirectBinding(attrsetOf(value.Unparen()), func(p []syntax.Node, v syntax.Node) {
						add(t, p, v)
					})
				} else {
					t.leaf = true
				}
			}
		}
	}
	eachDirectBinding(set.Parent(), func(path []syntax.Node, value syntax.Node) { add(root, path, value) })
}

func isLiteralAttrset(v syntax.Node) bool {
	v = v.Unparen()
	return v.Kind() == syntax.Attrset
}

func dottedName(path []syntax.Node) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = attrName(p)
	}
	return strings.Join(parts, ".")
}

// --- tree helpers ----------------------------------------------------------

type formalsInfo struct {
	// perSystemArgs is set when the formals name per-system arguments
	// (pkgs, self', system, inputs'), so the body is a per-system module.
	perSystemArgs bool
}

// functionBody strips function headers: `{ a, ... }: x: body` -> body.
func functionBody(n syntax.Node) (syntax.Node, formalsInfo) {
	var info formalsInfo
	n = n.Unparen()
	for n.Kind() == syntax.Function {
		for _, f := range n.Child(syntax.FieldFormals).Children(syntax.FieldFormal) {
			switch f.Child(syntax.FieldName).Text() {
			case "pkgs", "self'", "system", "inputs'":
				info.perSystemArgs = true
			}
		}
		n = n.Child(syntax.FieldBody).Unparen()
	}
	return n, info
}

// letBody strips let bindings: `let ... in body` -> body.
func letBody(n syntax.Node) syntax.Node {
	n = n.Unparen()
	for n.Kind() == syntax.Let || n.Kind() == syntax.With {
		n = n.Child(syntax.FieldBody).Unparen()
	}
	return n
}

// attrsetOf returns the attrset node of an (optionally let-wrapped)
// attrset expression.
func attrsetOf(n syntax.Node) syntax.Node {
	n = letBody(n)
	switch n.Kind() {
	case syntax.Attrset, syntax.RecAttrset:
		return n
	}
	return syntax.Node{}
}

// eachBinding calls fn for every binding of an attrset with its attribute
// path; `inherit (x) a b` bindings count as paths [a] and [b]. dynamic is
// set when a path element is interpolated.
func eachBinding(set syntax.Node, prefix []syntax.Node, fn func(path []syntax.Node, value syntax.Node, dynamic bool)) {
	eachDirectBinding(set, func(path []syntax.Node, value syntax.Node) {
		dynamic := false
		for _, p := range path {
			if isDynamic(p) {
				dynamic = true
			}
		}
		full := append(append([]syntax.Node(nil), prefix...), path...)
		fn(full, value, dynamic)
	})
}

func eachDirectBinding(set syntax.Node, fn func(path []syntax.Node, value syntax.Node)) {
	bs := set.FirstNamedOf(syntax.BindingSet)
	for b := bs.FirstChild(); b.Valid(); b = b.NextSibling() {
		switch b.Kind() {
		case syntax.Binding:
			fn(b.Child(syntax.FieldAttrpath).Children(syntax.FieldAttr), b.Child(syntax.FieldExpression))
		case syntax.Inherit, syntax.InheritFrom:
			for _, a := range b.Child(syntax.FieldAttrs).Children(syntax.FieldAttr) {
				fn([]syntax.Node{a}, syntax.Node{})
			}
		}
	}
}

// isDynamic reports whether an attribute name is computed (${...}).
func isDynamic(attr syntax.Node) bool {
	switch attr.Kind() {
	case syntax.Identifier:
		return false
	case syntax.String:
		_, ok := stringLiteral(attr)
		return !ok
	}
	return true
}

// attrName returns an attribute's name: an identifier, or a string literal
// without quotes.
func attrName(attr syntax.Node) string {
	if s, ok := stringLiteral(attr); ok {
		return s
	}
	return attr.Text()
}

// stringLiteral returns the value of a string without interpolation.
func stringLiteral(n syntax.Node) (string, bool) {
	if n.Kind() != syntax.String {
		return "", false
	}
	var b strings.Builder
	for c := n.FirstChild(); c.Valid(); c = c.NextSibling() {
		switch c.Kind() {
		case syntax.StringFragment:
			b.WriteString(c.Text())
		case syntax.EscapeSequence:
			b.WriteString(unescape(c.Text()))
		case syntax.Interpolation:
			return "", false
		}
	}
	return b.String(), true
}

func unescape(s string) string {
	switch s {
	case `\n`:
		return "\n"
	case `\t`:
		return "\t"
	case `\r`:
		return "\r"
	}
	return strings.TrimPrefix(s, `\`)
}
