package analysis

import (
	"strings"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// Lexical scopes of one file: which definition every variable refers to.
// Nix resolves variables statically (an unbound one is a parse error), so
// this is exact: `self` bound by `fix (self: …)` is not the flake's self,
// and a name not bound anywhere may come from a surrounding `with`, which
// is the one case the model cannot see through.

// bindKind says what kind of definition binds a variable.
type bindKind uint8

const (
	bindNone    bindKind = iota // not bound: an undefined variable
	bindLet                     // let x = v; / rec { x = v; } / let { x = v; }
	bindInherit                 // inherit (e) x; in a let or rec
	bindFormal                  // { x, ... }: of a function
	bindArgs                    // the @-name of a function with formals
	bindLambda                  // x: of a function
	bindWith                    // not bound lexically, under a with: it comes from the with's value
	bindBuiltin                 // true, import, builtins, …
)

// binding is the definition a variable refers to.
type binding struct {
	kind bindKind
	// def is the node that defines the name: the binding's attribute, the
	// formal's identifier, the lambda's parameter.
	def syntax.Node
	// value is the bound expression for let and rec bindings (nil node for
	// `x.y = v` bindings, whose value is the attrset they build), the
	// `(e)` of an inherit, and the function for formals and lambdas.
	value syntax.Node
	// dotted holds the bindings `x.a = …; x.b = …;` that together define x.
	dotted []syntax.Node
	// with is the environment expression of the innermost with, for
	// bindWith.
	with syntax.Node
}

// scopes is the result of resolving every variable of a tree.
type scopes struct {
	vars map[int32]*binding // variable_expression node ID -> binding
	// problems are the errors nix's parser reports while binding names:
	// undefined variables and duplicate formal arguments.
	problems []Diagnostic
}

// nixBuiltins are the names bound in every file (Nix's base environment);
// every name starting with "__" is one too.
var nixBuiltins = map[string]bool{
	"abort": true, "baseNameOf": true, "break": true, "builtins": true, "derivation": true,
	"derivationStrict": true, "dirOf": true, "false": true, "fetchGit": true, "fetchMercurial": true,
	"fetchTarball": true, "fetchTree": true, "fromTOML": true, "import": true, "isNull": true,
	"map": true, "null": true, "placeholder": true, "removeAttrs": true, "scopedImport": true,
	"throw": true, "toString": true, "true": true,
}

type scopeFrame struct {
	names map[string]*binding
	with  syntax.Node // set for a with frame
}

// resolveScopes binds every variable of the tree. It walks the tree once
// with an explicit stack, so deep nesting costs neither stack nor time
// beyond the number of nodes.
func resolveScopes(path string, tree *syntax.Tree) *scopes {
	sc := &scopes{vars: map[int32]*binding{}}
	r := &scopeResolver{path: path, sc: sc, mergedRec: map[int32]syntax.Node{}, recDotted: map[int32][]syntax.Node{}}
	r.walk(tree.Root())
	return sc
}

type scopeResolver struct {
	path   string
	sc     *scopes
	frames []scopeFrame
	// mergedRec maps a dotted binding `a.x = v;` of a plain attrset that
	// also has `a = rec { … };` to that rec attrset: Nix merges the two,
	// and v sees the rec's names (and x).
	mergedRec map[int32]syntax.Node
	recDotted map[int32][]syntax.Node // rec attrset -> the dotted bindings merged into it
}

// pending is a frame to pop once the walk leaves a subtree.
type pending struct {
	until  int32 // the pre-order ID after the subtree
	frames int   // frames to pop
}

func (r *scopeResolver) walk(root syntax.Node) {
	var exits []pending
	t := root.Tree()
	for id, end := root.ID(), root.SubtreeEnd(); id < end; {
		for len(exits) > 0 && id >= exits[len(exits)-1].until {
			e := exits[len(exits)-1]
			exits = exits[:len(exits)-1]
			r.frames = r.frames[:len(r.frames)-e.frames]
		}
		n := t.Node(id)
		pushed := 0
		push := func(f scopeFrame) {
			r.frames = append(r.frames, f)
			pushed++
		}
		switch n.Kind() {
		case syntax.Let, syntax.RecAttrset, syntax.LetAttrset:
			push(scopeFrame{names: r.mergedNames(n)})
		case syntax.Attrset:
			r.findMergedRec(n)
		case syntax.Binding:
			if rec, ok := r.mergedRec[n.ID()]; ok {
				push(scopeFrame{names: r.mergedNames(rec)})
			}
		case syntax.Function:
			push(scopeFrame{names: r.functionNames(n)})
		case syntax.With:
			// The environment expression is outside the with's scope; it is
			// visited before the frame matters because its IDs come first,
			// but it must not see the frame: give it its own exit.
			env := n.Child(syntax.FieldEnvironment)
			r.walkExpr(env)
			push(scopeFrame{with: env})
			exits = append(exits, pending{until: n.SubtreeEnd(), frames: pushed})
			id = env.SubtreeEnd()
			continue
		case syntax.Variable:
			r.bind(n)
		case syntax.Inherit:
			// inherit a b; reads a and b from the enclosing scope.
			for _, a := range n.Child(syntax.FieldAttrs).Children(syntax.FieldAttr) {
				if a.Kind() == syntax.Identifier {
					r.bindName(a, a.Text(), r.inheritFrames(n))
				}
			}
		}
		if pushed > 0 {
			exits = append(exits, pending{until: n.SubtreeEnd(), frames: pushed})
		}
		id++
	}
}

// walkExpr resolves the variables of one subtree with the frames as they
// are now (used for a with's environment).
func (r *scopeResolver) walkExpr(n syntax.Node) {
	if !n.Valid() {
		return
	}
	saved := len(r.frames)
	r.walk(n)
	r.frames = r.frames[:saved]
}

// inheritFrames are the frames an `inherit x;` of node n looks in: those
// outside the let or rec that holds it.
func (r *scopeResolver) inheritFrames(inh syntax.Node) int {
	owner := inh.Parent().Parent() // binding_set -> let / rec / attrset
	switch owner.Kind() {
	case syntax.Let, syntax.RecAttrset, syntax.LetAttrset:
		return len(r.frames) - 1
	}
	return len(r.frames)
}

func (r *scopeResolver) bind(v syntax.Node) {
	name := v.Child(syntax.FieldName)
	if !name.Valid() {
		name = v.FirstNamed()
	}
	r.bindName(v, name.Text(), len(r.frames))
}

// bindName resolves name in the innermost `frames` frames and records the
// binding under at's ID.
func (r *scopeResolver) bindName(at syntax.Node, name string, frames int) {
	var with syntax.Node
	for i := frames - 1; i >= 0; i-- {
		f := r.frames[i]
		if f.with.Valid() {
			if !with.Valid() {
				with = f.with
			}
			continue
		}
		if b := f.names[name]; b != nil {
			r.sc.vars[at.ID()] = b
			return
		}
	}
	switch {
	case with.Valid():
		r.sc.vars[at.ID()] = &binding{kind: bindWith, with: with}
	case nixBuiltins[name] || strings.HasPrefix(name, "__"):
		r.sc.vars[at.ID()] = &binding{kind: bindBuiltin}
	case name == "":
	default:
		r.sc.vars[at.ID()] = &binding{kind: bindNone}
		r.sc.problems = append(r.sc.problems, Diagnostic{
			Loc: Location{File: r.path, Span: at.Span()}, Severity: SeverityError, Code: CodeSyntax,
			Message: "undefined variable '" + name + "'",
		})
	}
}

// findMergedRec records the dotted bindings of a plain attrset that Nix
// merges into a rec attrset bound to the same name.
func (r *scopeResolver) findMergedRec(set syntax.Node) {
	recs := map[string]syntax.Node{}
	eachBinding(set, func(path []syntax.Node, value syntax.Node) {
		if len(path) == 1 && !isDynamic(path[0]) && value.Unparen().Kind() == syntax.RecAttrset {
			recs[attrName(path[0])] = value.Unparen()
		}
	})
	if len(recs) == 0 {
		return
	}
	bs := set.FirstNamedOf(syntax.BindingSet)
	for b := bs.FirstChild(); b.Valid(); b = b.NextSibling() {
		if b.Kind() != syntax.Binding {
			continue
		}
		attrs := b.Child(syntax.FieldAttrpath).Children(syntax.FieldAttr)
		if len(attrs) > 1 && !isDynamic(attrs[0]) {
			if rec, ok := recs[attrName(attrs[0])]; ok {
				r.mergedRec[b.ID()] = rec
				r.recDotted[rec.ID()] = append(r.recDotted[rec.ID()], b)
			}
		}
	}
}

// mergedNames are the names a recursive set binds, with those of dotted
// bindings Nix merges into it.
func (r *scopeResolver) mergedNames(n syntax.Node) map[string]*binding {
	names := r.recursiveNames(n)
	for _, d := range r.recDotted[n.ID()] {
		attrs := d.Child(syntax.FieldAttrpath).Children(syntax.FieldAttr)
		if len(attrs) > 1 && !isDynamic(attrs[1]) {
			names[attrName(attrs[1])] = &binding{kind: bindLet, def: attrs[1], value: d.Child(syntax.FieldExpression)}
		}
	}
	return names
}

// recursiveNames are the names a let, rec attrset or let { } binds.
func (r *scopeResolver) recursiveNames(n syntax.Node) map[string]*binding {
	names := map[string]*binding{}
	set := n.FirstNamedOf(syntax.BindingSet)
	for b := set.FirstChild(); b.Valid(); b = b.NextSibling() {
		switch b.Kind() {
		case syntax.Binding:
			attrs := b.Child(syntax.FieldAttrpath).Children(syntax.FieldAttr)
			if len(attrs) == 0 || isDynamic(attrs[0]) {
				continue
			}
			name := attrName(attrs[0])
			if len(attrs) == 1 {
				names[name] = &binding{kind: bindLet, def: attrs[0], value: b.Child(syntax.FieldExpression)}
				continue
			}
			if prev := names[name]; prev != nil && prev.kind == bindLet && !prev.value.Valid() {
				prev.dotted = append(prev.dotted, b)
			} else if prev == nil {
				names[name] = &binding{kind: bindLet, def: attrs[0], dotted: []syntax.Node{b}}
			}
		case syntax.InheritFrom:
			from := b.Child(syntax.FieldExpression)
			for _, a := range b.Child(syntax.FieldAttrs).Children(syntax.FieldAttr) {
				if !isDynamic(a) {
					names[attrName(a)] = &binding{kind: bindInherit, def: a, value: from}
				}
			}
		case syntax.Inherit:
			// `inherit x;` binds x to the outer x: the variable resolves
			// through the outer scope, so the name maps to that binding
			// when the walk reaches it. Recorded as a let of the inherited
			// identifier, whose binding is found by resolveInherited.
			for _, a := range b.Child(syntax.FieldAttrs).Children(syntax.FieldAttr) {
				if a.Kind() == syntax.Identifier {
					names[a.Text()] = &binding{kind: bindLet, def: a, value: a}
				}
			}
		}
	}
	return names
}

// functionNames are the names a function binds, and reports duplicate
// formals as nix does.
func (r *scopeResolver) functionNames(fn syntax.Node) map[string]*binding {
	names := map[string]*binding{}
	if u := fn.Child(syntax.FieldUniversal); u.Valid() {
		kind := bindLambda
		if fn.Child(syntax.FieldFormals).Valid() {
			kind = bindArgs
		}
		names[u.Text()] = &binding{kind: kind, def: u, value: fn}
	}
	for _, f := range fn.Child(syntax.FieldFormals).Children(syntax.FieldFormal) {
		id := f.Child(syntax.FieldName)
		name := id.Text()
		if _, dup := names[name]; dup {
			at := id
			if prev := names[name]; prev.kind == bindArgs {
				at = prev.def
			}
			r.sc.problems = append(r.sc.problems, Diagnostic{
				Loc: Location{File: r.path, Span: at.Span()}, Severity: SeverityError, Code: CodeSyntax,
				Message: "duplicate formal function argument '" + name + "'",
			})
			continue
		}
		names[name] = &binding{kind: bindFormal, def: id, value: fn}
	}
	return names
}

// lookup returns the binding of a variable node, or nil.
func (sc *scopes) lookup(v syntax.Node) *binding {
	if sc == nil {
		return nil
	}
	return sc.vars[v.ID()]
}
