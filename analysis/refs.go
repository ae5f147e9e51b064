package analysis

import (
	"path/filepath"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// The walk over every node of a file: references to flake outputs and
// inputs, path literals and how they are used, callPackage sites, flakes
// defined inside the file, templates and files the configuration creates.

func (x *extractor) walk(root syntax.Node) {
	consumed := map[int32]bool{} // path nodes read as part of a larger path expression
	root.Walk(func(n syntax.Node) bool {
		switch n.Kind() {
		case syntax.Select:
			x.selectRef(n)
		case syntax.InheritFrom:
			x.inheritRef(n)
		case syntax.Apply:
			x.apply(n)
		case syntax.Binary:
			if n.Child(syntax.FieldOperator).Is("+") {
				x.pathSum(n, consumed)
			}
		case syntax.Path:
			if !consumed[n.ID()] {
				x.pathLiteral(n)
			}
			return false
		case syntax.Binding:
			x.binding(n)
		}
		return true
	})
	x.markOptional()
}

// --- output references -----------------------------------------------------

// refStart is what a reference starts from, once its base variable is
// resolved.
type refStart struct {
	kind   refStartKind
	input  string
	bound  certainty
	module int
}

type refStartKind uint8

const (
	startSelf refStartKind = iota + 1
	startSelfPerSystem
	startInputs       // the set of inputs: the next attribute is an input
	startInputsPerSys // inputs'
	startInput        // one input (an outputs function formal)
	startConfig       // perSystem config
	startFlakeConfig  // a module's config: config.flake is self
)

// refChain resolves an expression to where a reference starts and the
// attributes selected after it: `self'.packages` is (self', [packages]);
// a let-bound `p = self'.packages` makes `p.x` (self', [packages, x]).
func (x *extractor) refChain(n syntax.Node, depth int) (refStart, []syntax.Node, bool) {
	n = n.Unparen()
	if depth > 16 {
		return refStart{}, nil, false
	}
	switch n.Kind() {
	case syntax.Select:
		if n.Child(syntax.FieldDefault).Valid() {
			return refStart{}, nil, false
		}
		base, attrs := selectParts(n)
		start, prefix, ok := x.refChain(base, depth+1)
		if !ok {
			return refStart{}, nil, false
		}
		return start, append(append([]syntax.Node(nil), prefix...), attrs...), true
	case syntax.Variable:
		return x.variableStart(n, depth)
	}
	return refStart{}, nil, false
}

func (x *extractor) variableStart(v syntax.Node, depth int) (refStart, []syntax.Node, bool) {
	b := x.sc.lookup(v)
	if b == nil {
		return refStart{}, nil, false
	}
	name := v.Text()
	switch b.kind {
	case bindLet:
		if b.value.Valid() && b.value.Kind() != syntax.Identifier {
			return x.refChain(b.value, depth+1)
		}
		return refStart{}, nil, false
	case bindInherit:
		start, prefix, ok := x.refChain(b.value, depth+1)
		if !ok {
			// inherit (args) self' inputs'; from an argument set a caller
			// passes: the primed names are flake-parts' by convention.
			if st, ok := primedConvention(name); ok {
				return st, nil, true
			}
			return refStart{}, nil, false
		}
		return start, append(append([]syntax.Node(nil), prefix...), b.def), true
	case bindFormal, bindArgs, bindLambda:
	default:
		return refStart{}, nil, false
	}
	fn := b.value
	role, known := x.roles[fn.ID()]
	if !known && b.kind != bindFormal {
		if st, ok := primedConvention(name); ok {
			return st, nil, true
		}
	}
	if !known {
		// A module-style function (formals with `...`) elsewhere: a NixOS
		// or home-manager module given the flake's arguments through
		// specialArgs, by convention.
		if b.kind == bindFormal && fn.Child(syntax.FieldFormals).FirstNamedOf(syntax.Ellipses).Valid() {
			role = fnRole{kind: roleConvention, module: -2}
		} else {
			return refStart{}, nil, false
		}
	}
	bound := boundByFlake
	if role.kind == roleConvention {
		bound = boundByConvention
	}
	st := refStart{bound: bound, module: role.module}
	switch role.kind {
	case roleOutputs:
		switch {
		case b.kind == bindFormal && name == "self":
			st.kind = startSelf
		case b.kind == bindFormal:
			st.kind, st.input = startInput, name
		default: // inputs@{…} or inputs: …
			st.kind = startInputs
		}
		return st, nil, true
	case roleModule, roleConvention, rolePerSystem:
		switch name {
		case "self":
			st.kind = startSelf
		case "self'":
			st.kind = startSelfPerSystem
		case "inputs":
			st.kind = startInputs
		case "inputs'":
			st.kind = startInputsPerSys
		case "config":
			switch role.kind {
			case rolePerSystem:
				st.kind = startConfig
			case roleModule:
				st.kind = startFlakeConfig
			default:
				return refStart{}, nil, false
			}
		default:
			return refStart{}, nil, false
		}
		if b.kind != bindFormal {
			return refStart{}, nil, false
		}
		return st, nil, true
	}
	return refStart{}, nil, false
}

// primedConvention gives self' and inputs' their flake-parts meaning, by
// convention, wherever they are bound: nothing else is named so.
func primedConvention(name string) (refStart, bool) {
	switch name {
	case "self'":
		return refStart{kind: startSelfPerSystem, bound: boundByConvention, module: -2}, true
	case "inputs'":
		return refStart{kind: startInputsPerSys, bound: boundByConvention, module: -2}, true
	}
	return refStart{}, false
}

// notOutputs are the attributes of a flake that are not outputs.
var notOutputs = map[string]bool{
	"outPath": true, "inputs": true, "sourceInfo": true, "lastModified": true, "lastModifiedDate": true,
	"narHash": true, "rev": true, "shortRev": true, "dirtyRev": true, "dirtyShortRev": true, "revCount": true,
	"_type": true, "outputs": true, "submodules": true, "drvPath": true,
}

// outputRefOf builds the reference a start and its attributes make.
func (x *extractor) outputRefOf(st refStart, attrs []syntax.Node) (outputRef, bool) {
	r := outputRef{Bound: st.bound, Module: st.module}
	switch st.kind {
	case startFlakeConfig:
		if len(attrs) == 0 || !attrs[0].Is("flake") {
			return r, false
		}
		attrs = attrs[1:]
		st.kind = startSelf
	case startInputs:
		if len(attrs) == 0 || isDynamic(attrs[0]) {
			return r, false
		}
		x.f.InputRefs = append(x.f.InputRefs, inputRef{Name: attrName(attrs[0]), Span: attrs[0].Span(), Module: st.module, Bound: st.bound})
		if attrs[0].Is("self") {
			st.kind = startSelf
		} else {
			st.kind, st.input = startInput, attrName(attrs[0])
		}
		attrs = attrs[1:]
	case startInputsPerSys:
		if len(attrs) == 0 || isDynamic(attrs[0]) {
			return r, false
		}
		x.f.InputRefs = append(x.f.InputRefs, inputRef{Name: attrName(attrs[0]), Span: attrs[0].Span(), Module: st.module, Bound: st.bound})
		st.kind, st.input = startSelfPerSystem, attrName(attrs[0])
		attrs = attrs[1:]
		r.Base = baseInputPerSys
	}
	if len(attrs) == 0 || isDynamic(attrs[0]) {
		return r, false
	}
	r.Category, r.CatSpan, r.Span = attrName(attrs[0]), attrs[0].Span(), attrs[0].Span()
	r.Input = st.input
	switch st.kind {
	case startSelfPerSystem, startConfig:
		if r.Base == 0 {
			r.Base = baseSelfPerSystem
			if st.kind == startConfig {
				r.Base = baseConfig
			}
		}
		if len(attrs) >= 2 {
			if isDynamic(attrs[1]) {
				return r, false
			}
			r.Name, r.Span = attrName(attrs[1]), attrs[1].Span()
		}
		return r, true
	case startSelf, startInput:
		r.Base = baseSelf
		if st.kind == startInput {
			r.Base = baseInput
		}
		if notOutputs[r.Category] {
			return r, false
		}
		rest := attrs[1:]
		if perSystemCategories[r.Category] {
			r.FlakeLevel = true
			if len(rest) == 0 {
				return r, true
			}
			r.System = "*"
			if s, ok := staticName(rest[0]); ok {
				r.System = s
			}
			rest = rest[1:]
		}
		if len(rest) > 0 {
			if isDynamic(rest[0]) {
				return r, false
			}
			r.Name, r.Span = attrName(rest[0]), rest[0].Span()
		}
		return r, true
	}
	return r, false
}

func (x *extractor) selectRef(n syntax.Node) {
	base, attrs := selectParts(n)
	st, prefix, ok := x.refChain(base, 0)
	if !ok {
		return
	}
	r, ok := x.outputRefOf(st, append(prefix, attrs...))
	if !ok {
		return
	}
	// Only the attributes written here count as a use at this place: a
	// let-bound prefix is reported where it is written, if at all.
	if !spanWithin(r.Span, n.Span()) {
		return
	}
	r.Guarded = n.Child(syntax.FieldDefault).Valid() || parentExpr(n).Kind() == syntax.HasAttr
	x.f.Refs = append(x.f.Refs, r)
}

func spanWithin(inner, outer syntax.Span) bool {
	return inner.Start >= outer.Start && inner.End <= outer.End
}

// inheritRef reads `inherit (self'.packages) a b;` and its kin.
func (x *extractor) inheritRef(n syntax.Node) {
	st, prefix, ok := x.refChain(n.Child(syntax.FieldExpression), 0)
	if !ok {
		return
	}
	for _, a := range n.Child(syntax.FieldAttrs).Children(syntax.FieldAttr) {
		if isDynamic(a) {
			continue
		}
		r, ok := x.outputRefOf(st, append(append([]syntax.Node(nil), prefix...), a))
		if ok && r.Name != "" {
			r.Inherited = true
			x.f.Refs = append(x.f.Refs, r)
		}
	}
}

// --- applications ------------------------------------------------------------

func (x *extractor) apply(n syntax.Node) {
	fn, args := callee(n)
	if n.Parent().Kind() == syntax.Apply && n.Field() == syntax.FieldFunction {
		return // a partial application: the whole call is visited
	}
	switch name := calleeName(fn); name {
	case "mkFlake", "evalFlakeModule":
		if _, seen := x.modules[n.ID()]; !seen {
			x.framework(n)
		}
	case "callPackage", "callPackages", "callPackageWith":
		if len(args) == 0 {
			return
		}
		target, ok := x.ev.pathValue(args[len(args)-min(len(args), 2)])
		if !ok {
			return
		}
		call := packageCall{Span: n.Span(), Target: target, Scope: -1}
		if path := bindingName(n); len(path) == 1 && !isDynamic(path[0]) {
			call.Name, call.NameSpan = attrName(path[0]), path[0].Span()
			set := parentExpr(n).Parent().Parent() // binding -> binding_set -> attrset
			call.Scope = x.scope(set)
		}
		x.f.Calls = append(x.f.Calls, call)
	case "withSystem", "moduleWithSystem":
		if f := args[len(args)-1].Unparen(); f.Kind() == syntax.Function {
			if _, known := x.roles[f.ID()]; !known {
				x.roles[f.ID()] = fnRole{kind: rolePerSystem, module: x.enclosingModule(n)}
			}
		}
	}
}

// scope returns the index of the callPackage scope of an attrset.
func (x *extractor) scope(set syntax.Node) int {
	if i, ok := x.scopeIDs[set.ID()]; ok {
		return i
	}
	var names []nameDef
	eachBinding(set, func(path []syntax.Node, _ syntax.Node) {
		if len(path) > 0 && !isDynamic(path[0]) {
			names = append(names, nameDef{Name: attrName(path[0]), Span: path[0].Span()})
		}
	})
	x.f.Scopes = append(x.f.Scopes, names)
	x.scopeIDs[set.ID()] = len(x.f.Scopes) - 1
	return len(x.f.Scopes) - 1
}

// enclosingModule is the innermost module of the file around n, or the
// file's own, or -2.
func (x *extractor) enclosingModule(n syntax.Node) int {
	for p := n.Parent(); p.Valid(); p = p.Parent() {
		if k, ok := x.modules[p.ID()]; ok {
			return k
		}
	}
	if x.f.Self >= 0 {
		return x.f.Self
	}
	return -2
}

// --- paths -----------------------------------------------------------------

// pathSum reads `base + /x` and `base + "/x"`: relative to base when the
// model can name it (a path, a let-bound path, the flake's self), and not
// a path of its own otherwise.
func (x *extractor) pathSum(n syntax.Node, consumed map[int32]bool) {
	if parentExpr(n).Kind() == syntax.Binary && parentExpr(n).Child(syntax.FieldOperator).Is("+") {
		return // the outermost sum is read
	}
	left := n.Child(syntax.FieldLeft).Unparen()
	right := n.Child(syntax.FieldRight).Unparen()
	if right.Kind() != syntax.Path && right.Kind() != syntax.String {
		return
	}
	if right.Kind() == syntax.Path {
		consumed[right.ID()] = true
	}
	if target, ok := x.ev.pathValue(n); ok {
		if left.Kind() == syntax.Path {
			consumed[left.ID()] = true
		}
		x.addPath(n, target, false)
		return
	}
	// self + /x, inputs.self + /x: the flake's root.
	if st, attrs, ok := x.refChain(left, 0); ok && (st.kind == startSelf && len(attrs) == 0 || st.kind == startInputs && len(attrs) == 1 && attrs[0].Is("self")) {
		var rest string
		if right.Kind() == syntax.String {
			rest, ok = stringLiteral(right)
		} else if frag := right.FirstChild(); frag.Kind() == syntax.PathFragment && !frag.NextSibling().Valid() {
			rest = frag.Text()
		} else {
			ok = false
		}
		if ok {
			x.addPath(n, filepath.Clean("/"+rest), true)
		}
	}
}

func (x *extractor) pathLiteral(n syntax.Node) {
	target, ok := x.ev.literalPath(n)
	if !ok {
		return
	}
	x.addPath(n, target, false)
}

func (x *extractor) addPath(n syntax.Node, target string, fromSelf bool) {
	read, imported, guard := pathUse(n)
	if inFormalDefault(n) {
		// { pkgs ? import ./x.nix { } }: used only when no argument is
		// given, which a flake never does.
		read, imported = false, false
	}
	p := pathFact{Span: n.Span(), Target: target, Read: read, Import: imported, FromSelf: fromSelf, Optional: inPathExistsFilter(n)}
	if guard {
		x.guards = append(x.guards, target)
	}
	x.f.Paths = append(x.f.Paths, p)
}

// markOptional marks paths whose existence the file tests somewhere
// (if pathExists ./x then import ./x …, filter pathExists [ … ]).
func (x *extractor) markOptional() {
	tested := map[string]bool{}
	for _, g := range x.guards {
		tested[g] = true
	}
	for i := range x.f.Paths {
		if tested[x.f.Paths[i].Target] {
			x.f.Paths[i].Optional = true
		}
	}
}

// readers are the functions that read the path they are given.
var readers = map[string]bool{
	"import": true, "scopedImport": true, "callPackage": true, "callPackages": true, "callPackageWith": true,
	"readFile": true, "readDir": true, "importJSON": true, "importTOML": true, "fileContents": true,
	"cleanSource": true, "filterSource": true, "sourceByRegex": true, "sourceFilesBySuffices": true,
	"copyPathToStore": true, "hashFile": true, "readFileType": true, "path": false,
}

// importers read the path as Nix code.
var importers = map[string]bool{"import": true, "scopedImport": true, "callPackage": true, "callPackages": true, "callPackageWith": true}

// pathUse tells how a path expression is used: read (its existence
// matters), imported as Nix code, or tested with pathExists.
func pathUse(n syntax.Node) (read, imported, guard bool) {
	p := n
	for {
		parent := p.Parent()
		switch parent.Kind() {
		case syntax.Parenthesized:
			p = parent
			continue
		case syntax.Apply:
			if p.Field() != syntax.FieldArgument {
				return false, false, false
			}
			name := calleeName(parent.Child(syntax.FieldFunction))
			switch {
			case name == "pathExists":
				return false, false, true
			case readers[name]:
				return true, importers[name], false
			case name == "optional" && isImportsList(parent):
				return true, true, false
			}
			return false, false, false
		case syntax.List:
			// An element of an imports list, however the list is wrapped.
			if isImportsList(parent) {
				return true, true, false
			}
			return false, false, false
		case syntax.Binding:
			attrs := parent.Child(syntax.FieldAttrpath).Children(syntax.FieldAttr)
			if len(attrs) == 0 {
				return false, false, false
			}
			switch attrName(attrs[len(attrs)-1]) {
			case "imports":
				return true, true, false
			case "src", "source":
				return true, false, false
			case "path":
				// builtins.path { path = ./x; }
				set := parent.Parent().Parent()
				call := parentExpr(set)
				if call.Kind() == syntax.Apply && calleeName(call.Child(syntax.FieldFunction)) == "path" {
					return true, false, false
				}
			}
			return false, false, false
		}
		return false, false, false
	}
}

// inFormalDefault reports whether n is inside the default of a formal
// argument.
func inFormalDefault(n syntax.Node) bool {
	for p := n.Parent(); p.Valid(); p = p.Parent() {
		switch p.Kind() {
		case syntax.Formal:
			return true
		case syntax.Function:
			return false
		}
	}
	return false
}

// isImportsList reports whether a list is (part of) the value of an
// imports binding: `imports = [ … ] ++ lib.optional c [ … ]`.
func isImportsList(list syntax.Node) bool {
	for n, p := list, list.Parent(); p.Valid(); n, p = p, p.Parent() {
		switch p.Kind() {
		case syntax.Apply:
			// Only the wrappers that keep the list's elements as modules.
			fn, args := callee(p)
			switch calleeName(fn) {
			case "optional", "optionals", "filter", "flatten", "unique":
				if !spanWithin(n.Span(), args[len(args)-1].Span()) {
					return false
				}
			default:
				return false
			}
		case syntax.Parenthesized, syntax.Binary, syntax.Let, syntax.If, syntax.List:
		case syntax.Binding:
			attrs := p.Child(syntax.FieldAttrpath).Children(syntax.FieldAttr)
			return len(attrs) > 0 && attrs[len(attrs)-1].Is("imports")
		default:
			return false
		}
	}
	return false
}

// inPathExistsFilter reports whether a path is an element of a list given
// to `filter pathExists` (or `filter builtins.pathExists`).
func inPathExistsFilter(n syntax.Node) bool {
	for p := n.Parent(); p.Valid(); p = p.Parent() {
		if p.Kind() != syntax.Apply {
			continue
		}
		fn, args := callee(p)
		if calleeName(fn) == "filter" && len(args) == 2 && calleeName(args[0]) == "pathExists" && spanWithin(n.Span(), args[1].Span()) {
			return true
		}
	}
	return false
}

// --- bindings: templates and created files -----------------------------------

func (x *extractor) binding(b syntax.Node) {
	attrs := b.Child(syntax.FieldAttrpath).Children(syntax.FieldAttr)
	if len(attrs) == 0 {
		return
	}
	value := b.Child(syntax.FieldExpression).Unparen()
	// files."name".text = …; files."name" = { … }; (devenv writes them).
	for i, a := range attrs[:len(attrs)-1] {
		if a.Is("files") && !isDynamic(attrs[i+1]) && attrs[i+1].Kind() == syntax.String {
			x.f.Created = append(x.f.Created, attrName(attrs[i+1]))
		}
	}
	if attrs[len(attrs)-1].Is("files") {
		if set := attrsetOf(value); set.Valid() {
			eachBinding(set, func(p []syntax.Node, _ syntax.Node) {
				if len(p) > 0 && p[0].Kind() == syntax.String && !isDynamic(p[0]) {
					x.f.Created = append(x.f.Created, attrName(p[0]))
				}
			})
		}
	}
	// templates.NAME.path = ./dir; and templates.NAME = { path = ./dir; }.
	if attrs[len(attrs)-1].Is("path") && value.Kind() == syntax.Path {
		for p := b.Parent(); p.Valid(); p = p.Parent() {
			if p.Kind() != syntax.Binding {
				continue
			}
			for _, a := range p.Child(syntax.FieldAttrpath).Children(syntax.FieldAttr) {
				if a.Is("templates") {
					if dir, ok := x.ev.literalPath(value); ok {
						x.f.Templates = append(x.f.Templates, dir)
					}
				}
			}
		}
		for _, a := range attrs {
			if a.Is("templates") {
				if dir, ok := x.ev.literalPath(value); ok {
					x.f.Templates = append(x.f.Templates, dir)
				}
			}
		}
	}
}
