package analysis

import (
	"path/filepath"
	"strings"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// facts is what one file says, read from its syntax tree alone. Everything
// that involves other files (which flake reaches a module, whether a
// reference resolves) is computed later from the facts of all files, so an
// edit re-reads only the edited file, and facts can be stored and reused
// while the file's content is unchanged.
type facts struct {
	// Modules are the flake modules the file holds: the file itself when
	// it is shaped as one (index Self), inline modules of imports lists,
	// and the module arguments of mkFlake calls.
	Modules []moduleFacts
	Self    int // index of the file's own module, -1 when it is not shaped as one
	// Flake is set for a flake.nix.
	Flake *flakeFacts
	// Refs are references to flake outputs; InputRefs name flake inputs.
	Refs      []outputRef
	InputRefs []inputRef
	Paths     []pathFact
	// Calls are callPackage sites; Scopes the names of the attribute sets
	// they are in, which callPackage'd files may take as arguments.
	Calls  []packageCall
	Scopes [][]nameDef
	// Formals are the formal arguments of the file's top-level function.
	Formals []nameDef
	// Top is the shape of the file's value (below its function headers).
	Top *shape
	// Syntax are the grammar's errors; Problems the errors nix reports
	// while parsing beyond them: undefined variables, duplicate formal
	// arguments and attributes, keywords as names.
	Syntax   []syntax.Problem
	Problems []Diagnostic
	// Created are files the configuration itself writes (devenv's
	// files."name"), relative to the file's directory.
	Created []string
	// Templates are directories the file publishes as flake templates.
	Templates []string
}

// moduleFacts is one flake module: an attrset, or a function returning
// one, in the flake-parts (or adios-flake) module system.
type moduleFacts struct {
	Span    syntax.Span
	Formals []string
	Imports []importFact
	// PerSystem holds what perSystem defines: category -> names (-> names
	// below, for custom outputs); Flake what flake = … defines: category ->
	// names, or category -> system -> names.
	PerSystem *shape
	Flake     *shape
	// Body is the module read as a per-system module (adios-flake): its
	// own attributes are the categories.
	Body *shape
	// Options are the other top-level options the module sets; Settings
	// their shape (option -> the names set below it).
	Options  []nameDef
	Settings *shape
	// Declares lists custom per-system outputs the module declares
	// (transposition.X, mkPerSystemOption).
	Declares []string
	// Adios marks the module an adios-flake mkFlake call builds: its
	// imports are per-system modules.
	Adios bool
	// Inner marks an mkFlake call that makes a flake of its own (a test
	// flake inside a file): its self is not the repository's.
	Inner bool
}

// importKind says what an entry of an imports list is.
type importKind uint8

const (
	importFile     importKind = iota + 1 // a path: a file, or a directory's default.nix
	importTree                           // every .nix file below a directory (import-tree, listFilesRecursive)
	importGlob                           // files matching Pattern (map over readDir)
	importInline                         // a module written in place (Module)
	importExternal                       // a module from a flake input, which the model cannot read
	importUnknown                        // an expression the model cannot read
)

type importFact struct {
	Kind   importKind
	Span   syntax.Span
	Target string // importFile and importTree: the path
	// Pattern is a glob (importGlob) relative to Target: "*/flake-module.nix".
	Pattern string
	Module  int // importInline: index into Modules
	// Filter describes a filter of an import tree the model can apply
	// (Exclude, Match) or could not read (FilterUnread).
	Exclude      []string
	Match        string
	FilterUnread bool
	// Optional marks entries that may not be imported (lib.optional,
	// filter pathExists).
	Optional bool
	Why      string // importExternal, importUnknown
	// Partition names the flake-parts partition the entry imports into.
	Partition string
	// Input and Attr name a module of a flake input (importExternal):
	// inputs.treefmt-nix.flakeModule is treefmt-nix, [flakeModule].
	Input string
	Attr  []string
}

// flakeFacts is what a flake.nix declares.
type flakeFacts struct {
	Inputs []inputFact
	// Outputs is the shape of the outputs function's value: category ->
	// names, or category -> system -> names. Its Modules are the
	// flake-parts (or adios-flake) modules whose outputs merge in.
	Outputs *shape
	// SelfName and InputsName are the outputs function's names for self
	// and the inputs set ("" when absent).
	SelfName, InputsName string
	// InputArgs are the inputs the outputs function takes as formals.
	InputArgs []string
	// InputsSpan is where the flake declares its inputs (the first
	// `inputs` attribute), zero when it declares none.
	InputsSpan syntax.Span
}

type inputFact struct {
	Name string
	Span syntax.Span
	URL  string
	// Dir is the directory of a path: input ("" otherwise).
	Dir   string
	Flake bool
}

// refBase says what an output reference starts from.
type refBase uint8

const (
	baseSelf          refBase = iota + 1 // self.<cat>… (or inputs.self, config.flake)
	baseSelfPerSystem                    // self'.<cat>.<name>
	baseInput                            // inputs.<input>.<cat>…
	baseInputPerSys                      // inputs'.<input>.<cat>.<name>
	baseConfig                           // config.<cat>.<name> in perSystem
)

// certainty says how sure the model is of what a reference's base means.
type certainty uint8

const (
	// boundByFlake: bound by a flake's outputs function or a flake module
	// the model reads; whether the module is reached decides.
	boundByFlake certainty = iota + 1
	// boundByConvention: an argument named like a flake's (self, self',
	// inputs) of a module-style function outside the flake's module tree,
	// such as a NixOS module given self through specialArgs. Navigation
	// follows it; diagnostics never rely on it.
	boundByConvention
)

// outputRef is a use of a flake output.
type outputRef struct {
	Base  refBase
	Bound certainty
	// Module is the index of the module whose arguments bind the base
	// (-1: the flake.nix outputs function, -2: bound by convention).
	Module int
	Input  string
	// Category, System and Name are the attributes after the base (and the
	// input); System is "" for per-system references and "*" when it is
	// computed.
	Category string
	System   string
	Name     string
	// Span is the name's (the category's when there is no name), CatSpan
	// the category's.
	Span    syntax.Span
	CatSpan syntax.Span
	// Guarded marks `x.a or d` and `x ? a`: they cannot fail.
	Guarded bool
	// Inherited marks the name of an `inherit (…) name;`.
	Inherited bool
	// FlakeLevel marks a per-system category read from self.<cat>.<system>
	// (as opposed to self'.<cat>).
	FlakeLevel bool
}

// inputRef is a use of a flake input by name: inputs.X, inputs'.X.
type inputRef struct {
	Name   string
	Span   syntax.Span
	Module int // as in outputRef
	Bound  certainty
}

// pathFact is a path literal (or path expression) of the file.
type pathFact struct {
	Span   syntax.Span
	Target string // absolute
	// Read marks paths whose existence matters: imported, called, read,
	// copied as a source; a path only used as a value (toString, ==) is
	// not read.
	Read bool
	// Import marks paths read as Nix code, where a directory means its
	// default.nix.
	Import bool
	// Optional marks paths whose existence the file tests (pathExists).
	Optional bool
	// FromSelf marks `self + /x`: Target is relative to the flake's root.
	FromSelf bool
}

// packageCall is `callPackage PATH args` in a binding NAME = … of a scope.
type packageCall struct {
	Span     syntax.Span
	Target   string
	Scope    int // index into Scopes, -1 outside any
	Name     string
	NameSpan syntax.Span
}

// extractFacts reads the facts of one file.
func extractFacts(path string, tree *syntax.Tree) *facts {
	sc := resolveScopes(path, tree)
	x := &extractor{
		path: path, dir: filepath.Dir(path), tree: tree, sc: sc,
		f:        &facts{Self: -1},
		roles:    map[int32]fnRole{},
		modules:  map[int32]int{},
		scopeIDs: map[int32]int{},
	}
	x.ev = newEvaluator(path, tree, sc)
	x.ev.onFramework = x.framework
	root := tree.Root().FirstNamed()
	top, topFn := functionBody(root)
	// A flake.nix that is a function is no flake (nix refuses one: a flake
	// is an attribute set); repositories name NixOS modules about flakes
	// so, and import them like any module.
	if filepath.Base(path) == "flake.nix" && !topFn.Valid() {
		x.flakeFile(root)
	} else if set := attrsetOf(top); set.Valid() || topFn.Valid() {
		x.f.Self = x.module(root, false)
	}
	if topFn.Valid() {
		for _, f := range topFn.Child(syntax.FieldFormals).Children(syntax.FieldFormal) {
			id := f.Child(syntax.FieldName)
			x.f.Formals = append(x.f.Formals, nameDef{Name: id.Text(), Span: id.Span()})
		}
		if _, seen := x.roles[topFn.ID()]; !seen {
			x.roles[topFn.ID()] = fnRole{kind: roleConvention, module: -2}
		}
	}
	x.f.Top = x.ev.shapeOf(top, 2)
	x.walk(tree.Root())
	x.f.Syntax = tree.Errors
	x.problems()
	return x.f
}

// roleKind says what a function's arguments mean to flakes.
type roleKind uint8

const (
	roleOutputs    roleKind = iota + 1 // a flake.nix outputs function
	roleModule                         // a flake module's function
	rolePerSystem                      // perSystem, withSystem and friends
	roleConvention                     // a module-style function elsewhere
)

type fnRole struct {
	kind   roleKind
	module int
}

type extractor struct {
	path, dir string
	tree      *syntax.Tree
	sc        *scopes
	ev        *evaluator
	f         *facts
	roles     map[int32]fnRole // function node -> what its arguments are
	modules   map[int32]int    // module expression node -> index
	scopeIDs  map[int32]int    // attrset node -> callPackage scope
	// inOutputs is set while reading a flake.nix's outputs, where mkFlake
	// calls make the flake's own modules.
	inOutputs bool
	// guards are the targets of pathExists tests.
	guards []string
}

// --- flake.nix -----------------------------------------------------------

func (x *extractor) flakeFile(root syntax.Node) {
	set := attrsetOf(root)
	fl := &flakeFacts{}
	x.f.Flake = fl
	if !set.Valid() {
		fl.Outputs = (&shape{}).open(root, "the flake is not an attribute set")
		return
	}
	eachBinding(set, func(path []syntax.Node, value syntax.Node) {
		if len(path) == 0 || isDynamic(path[0]) {
			return
		}
		switch {
		case path[0].Is("inputs"):
			if fl.InputsSpan == (syntax.Span{}) {
				fl.InputsSpan = path[0].Span()
			}
			x.inputs(path[1:], value)
		case path[0].Is("outputs") && len(path) == 1:
			x.outputsFunction(value)
		}
	})
	if fl.Outputs == nil {
		fl.Outputs = &shape{}
	}
}

func (x *extractor) outputsFunction(value syntax.Node) {
	fl := x.f.Flake
	fn := value.Unparen()
	if fn.Kind() != syntax.Function {
		fl.Outputs = (&shape{}).open(value, "outputs is not a function the model reads")
		return
	}
	x.roles[fn.ID()] = fnRole{kind: roleOutputs, module: -1}
	if u := fn.Child(syntax.FieldUniversal); u.Valid() {
		fl.InputsName = u.Text()
	}
	for _, f := range fn.Child(syntax.FieldFormals).Children(syntax.FieldFormal) {
		name := f.Child(syntax.FieldName).Text()
		if name == "self" {
			fl.SelfName = name
		} else {
			fl.InputArgs = append(fl.InputArgs, name)
		}
	}
	x.inOutputs = true
	fl.Outputs = x.ev.shapeOf(fn.Child(syntax.FieldBody), 3)
	x.inOutputs = false
}

// inputs reads `inputs.NAME.url = …`, `inputs.NAME = { url = …; }` and
// `inputs = { NAME.url = …; }`.
func (x *extractor) inputs(path []syntax.Node, value syntax.Node) {
	if len(path) == 0 {
		if set := attrsetOf(value); set.Valid() {
			eachBinding(set, func(p []syntax.Node, v syntax.Node) {
				if len(p) > 0 && !isDynamic(p[0]) {
					x.inputs(p, v)
				}
			})
		}
		return
	}
	in := x.input(path[0])
	switch {
	case len(path) == 1:
		if set := attrsetOf(value); set.Valid() {
			eachBinding(set, func(p []syntax.Node, v syntax.Node) {
				if len(p) == 1 {
					x.inputAttr(in, attrName(p[0]), v)
				}
			})
		} else if s, ok := stringLiteral(value.Unparen()); ok {
			x.inputAttr(in, "url", syntaxString(s))
		}
	case len(path) == 2:
		x.inputAttr(in, attrName(path[1]), value)
	}
}

// syntaxString is a stand-in value node for a string already read.
type syntaxString string

func (x *extractor) input(name syntax.Node) *inputFact {
	n := attrName(name)
	fl := x.f.Flake
	for i := range fl.Inputs {
		if fl.Inputs[i].Name == n {
			return &fl.Inputs[i]
		}
	}
	fl.Inputs = append(fl.Inputs, inputFact{Name: n, Span: name.Span(), Flake: true})
	return &fl.Inputs[len(fl.Inputs)-1]
}

func (x *extractor) inputAttr(in *inputFact, attr string, value any) {
	var s string
	switch v := value.(type) {
	case syntax.Node:
		var ok bool
		if s, ok = stringLiteral(v.Unparen()); !ok {
			if attr == "flake" && v.Unparen().Is("false") {
				in.Flake = false
			}
			return
		}
	case syntaxString:
		s = string(v)
	}
	if attr != "url" {
		return
	}
	in.URL = s
	if p, ok := strings.CutPrefix(s, "path:"); ok {
		if i := strings.IndexAny(p, "?#"); i >= 0 {
			p = p[:i]
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(x.dir, p)
		}
		in.Dir = filepath.Clean(p)
	}
}

// framework is called by the evaluator for an mkFlake or evalFlakeModule
// call and records its module: the flake's own inside a flake.nix's
// outputs, an inner flake elsewhere.
func (x *extractor) framework(call syntax.Node) int {
	fn, args := callee(call)
	_ = fn
	if k, ok := x.modules[call.ID()]; ok {
		return k
	}
	var k int
	switch {
	case len(args) == 1 && attrsetOf(args[0]).Valid() && x.hasAttr(attrsetOf(args[0]), "modules"):
		k = x.adiosModule(attrsetOf(args[0]))
	case len(args) >= 2:
		k = x.moduleOrImport(args[len(args)-1], !x.inOutputs)
	default:
		return -1
	}
	x.modules[call.ID()] = k
	return k
}

func (x *extractor) hasAttr(set syntax.Node, name string) bool {
	found := false
	eachBinding(set, func(path []syntax.Node, _ syntax.Node) {
		if len(path) > 0 && path[0].Is(name) {
			found = true
		}
	})
	return found
}

// adiosModule reads adios-flake's mkFlake { modules = [ … ]; flake = …; }:
// the modules are per-system modules, flake holds flake-level outputs.
func (x *extractor) adiosModule(set syntax.Node) int {
	k := len(x.f.Modules)
	x.f.Modules = append(x.f.Modules, moduleFacts{Span: set.Span(), Adios: true, PerSystem: &shape{}, Flake: &shape{}, Body: &shape{}})
	x.modules[set.ID()] = k
	eachBinding(set, func(path []syntax.Node, value syntax.Node) {
		if len(path) == 0 || isDynamic(path[0]) {
			return
		}
		m := &x.f.Modules[k]
		switch attrName(path[0]) {
		case "modules":
			imports := x.importsList(value, k)
			x.f.Modules[k].Imports = append(x.f.Modules[k].Imports, imports...)
		case "flake":
			body, fn := functionBody(value)
			if fn.Valid() {
				x.roles[fn.ID()] = fnRole{kind: roleModule, module: k}
			}
			m.Flake.merge(x.bindingValue(path[1:], body, 2))
		case "perSystem":
			body, fn := functionBody(value)
			if fn.Valid() {
				x.roles[fn.ID()] = fnRole{kind: rolePerSystem, module: k}
			}
			m.PerSystem.merge(x.bindingValue(path[1:], body, 2))
		}
	})
	return k
}

// moduleOrImport makes a module of an expression given as one: a module
// written in place, or anything else (a path, an import) as a module that
// imports it.
func (x *extractor) moduleOrImport(n syntax.Node, inner bool) int {
	body, _ := functionBody(n)
	if attrsetOf(body).Valid() {
		k := x.module(n, inner)
		return k
	}
	k := len(x.f.Modules)
	x.f.Modules = append(x.f.Modules, moduleFacts{Span: n.Span(), Inner: inner, PerSystem: &shape{}, Flake: &shape{}, Body: &shape{}})
	x.modules[n.ID()] = k
	imports := x.importEntries(n, k, false)
	x.f.Modules[k].Imports = imports
	return k
}

// --- modules ---------------------------------------------------------------

// module reads a flake module: an attrset, or a function returning one,
// with imports, perSystem, flake and other options.
func (x *extractor) module(n syntax.Node, inner bool) int {
	n = n.Unparen()
	if k, ok := x.modules[n.ID()]; ok {
		return k
	}
	body, fn := functionBody(n)
	k := len(x.f.Modules)
	x.f.Modules = append(x.f.Modules, moduleFacts{Span: n.Span(), Inner: inner, PerSystem: &shape{}, Flake: &shape{}, Body: &shape{}})
	x.modules[n.ID()] = k
	if fn.Valid() {
		x.roles[fn.ID()] = fnRole{kind: roleModule, module: k}
		var formals []string
		for _, f := range fn.Child(syntax.FieldFormals).Children(syntax.FieldFormal) {
			formals = append(formals, f.Child(syntax.FieldName).Text())
		}
		x.f.Modules[k].Formals = formals
	}
	set := attrsetOf(body)
	if !set.Valid() {
		return k
	}
	x.f.Modules[k].Body = x.ev.shapeOf(set, 2)
	x.moduleBindings(k, set)
	return k
}

// moduleBindings reads the options a module's attrset (or its config)
// defines.
func (x *extractor) moduleBindings(k int, set syntax.Node) {
	eachBinding(set, func(path []syntax.Node, value syntax.Node) {
		if len(path) == 0 {
			return
		}
		name, ok := staticName(path[0])
		if !ok {
			return
		}
		switch {
		case name == "imports" && len(path) == 1:
			imports := x.importsList(value, k)
			x.f.Modules[k].Imports = append(x.f.Modules[k].Imports, imports...)
		case name == "perSystem":
			x.perSystem(k, path[1:], value)
		case name == "flake":
			x.f.Modules[k].Flake.merge(x.bindingValue(path[1:], value, 3))
		case name == "config" && len(path) == 1:
			if inner := attrsetOf(value); inner.Valid() {
				x.moduleBindings(k, inner)
			}
		case name == "config":
			x.moduleBindings(k, fakeBinding(path[1:], value, x, k))
		case name == "options":
			x.options(k, path[1:], value)
		case name == "transposition" && len(path) >= 2:
			x.declare(k, attrName(path[1]))
		case name == "transposition":
			if inner := attrsetOf(value); inner.Valid() {
				eachBinding(inner, func(p []syntax.Node, _ syntax.Node) {
					if len(p) > 0 && !isDynamic(p[0]) {
						x.declare(k, attrName(p[0]))
					}
				})
			}
		case name == "partitions":
			x.partitions(k, path[1:], value)
		default:
			x.f.Modules[k].Options = append(x.f.Modules[k].Options, nameDef{Name: name, Span: path[0].Span()})
			if x.f.Modules[k].Settings == nil {
				x.f.Modules[k].Settings = &shape{}
			}
			set := x.f.Modules[k].Settings
			set.Names = append(set.Names, nameDef{Name: name, Span: path[0].Span()})
			set.sub(name).merge(x.bindingValue(path[1:], value, 0))
		}
	})
}

// fakeBinding handles config.perSystem = … and config.flake.X = … written
// with a dotted path: it reads them in place and returns an invalid node.
func fakeBinding(path []syntax.Node, value syntax.Node, x *extractor, k int) syntax.Node {
	if len(path) == 0 {
		return syntax.Node{}
	}
	switch attrName(path[0]) {
	case "perSystem":
		x.perSystem(k, path[1:], value)
	case "flake":
		x.f.Modules[k].Flake.merge(x.bindingValue(path[1:], value, 3))
	case "transposition":
		if len(path) >= 2 {
			x.declare(k, attrName(path[1]))
		}
	}
	return syntax.Node{}
}

func (x *extractor) declare(k int, name string) {
	x.f.Modules[k].Declares = append(x.f.Modules[k].Declares, name)
}

// bindingValue is the shape a (possibly dotted) binding contributes to
// its first attribute: `flake.packages.x = v` contributes packages.x.
func (x *extractor) bindingValue(rest []syntax.Node, value syntax.Node, depth int) *shape {
	return x.ev.bindingShape(rest, value, depth)
}

// perSystem reads `perSystem = { … }: { … };` (and dotted perSystem.x).
func (x *extractor) perSystem(k int, rest []syntax.Node, value syntax.Node) {
	if len(rest) > 0 {
		x.f.Modules[k].PerSystem.merge(x.bindingValue(rest, value, 2))
		return
	}
	x.perSystemValue(k, value)
}

func (x *extractor) perSystemValue(k int, value syntax.Node) {
	body, fn := functionBody(value)
	if fn.Valid() {
		x.roles[fn.ID()] = fnRole{kind: rolePerSystem, module: k}
	}
	x.f.Modules[k].PerSystem.merge(x.ev.shapeOf(body, 2))
}

// options reads option declarations: options.perSystem =
// mkPerSystemOption (…) declares per-system options, which may be custom
// outputs.
func (x *extractor) options(k int, path []syntax.Node, value syntax.Node) {
	value.Walk(func(n syntax.Node) bool {
		if n.Kind() == syntax.Apply && calleeName(n.Child(syntax.FieldFunction)) == "mkPerSystemOption" {
			arg := n.Child(syntax.FieldArgument)
			body, fn := functionBody(arg)
			if fn.Valid() {
				x.roles[fn.ID()] = fnRole{kind: rolePerSystem, module: k}
			}
			if set := attrsetOf(body); set.Valid() {
				eachBinding(set, func(p []syntax.Node, v syntax.Node) {
					if len(p) == 0 || isDynamic(p[0]) {
						return
					}
					switch attrName(p[0]) {
					case "options":
						if len(p) > 1 {
							x.declare(k, attrName(p[1]))
						} else if o := attrsetOf(v); o.Valid() {
							eachBinding(o, func(q []syntax.Node, _ syntax.Node) {
								if len(q) > 0 && !isDynamic(q[0]) {
									x.declare(k, attrName(q[0]))
								}
							})
						}
					case "config":
						x.f.Modules[k].PerSystem.merge(x.bindingValue(p[1:], v, 2))
					}
				})
			}
			return false
		}
		return true
	})
}

// partitions reads flake-parts partitions: partitions.NAME.module is a
// module of its own, whose outputs the flake exposes for the partitioned
// attributes. The model reads them as modules of the flake.
func (x *extractor) partitions(k int, path []syntax.Node, value syntax.Node) {
	add := func(name string, entries []importFact) {
		for i := range entries {
			entries[i].Partition = name
		}
		x.f.Modules[k].Imports = append(x.f.Modules[k].Imports, entries...)
	}
	// visit reads the bindings below partitions.NAME.
	visit := func(name string, p []syntax.Node, v syntax.Node) {
		switch {
		case len(p) == 1 && p[0].Is("module"):
			add(name, x.importEntries(v, k, false))
		case len(p) == 2 && p[0].Is("module") && p[1].Is("imports"):
			add(name, x.importsList(v, k))
		}
	}
	each := func(name string, v syntax.Node) {
		if set := attrsetOf(v); set.Valid() {
			eachBinding(set, func(p []syntax.Node, v syntax.Node) { visit(name, p, v) })
		}
	}
	switch {
	case len(path) >= 2:
		visit(attrName(path[0]), path[1:], value)
	case len(path) == 1:
		each(attrName(path[0]), value)
	default:
		if set := attrsetOf(value); set.Valid() {
			eachBinding(set, func(p []syntax.Node, v syntax.Node) {
				if len(p) == 0 {
					return
				}
				if len(p) > 1 {
					visit(attrName(p[0]), p[1:], v)
				} else {
					each(attrName(p[0]), v)
				}
			})
		}
	}
}
