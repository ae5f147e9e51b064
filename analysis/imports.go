package analysis

import (
	"regexp"
	"strings"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// Reading imports lists: literal paths, directories, import-tree in every
// form, maps over readDir, modules of flake inputs, and the wrappers lists
// are built with (++, lib.optional, filter pathExists, let bindings).

// importsList reads the value of an `imports` binding of module k.
func (x *extractor) importsList(value syntax.Node, k int) []importFact {
	return x.importEntries(value, k, true)
}

// importEntries reads an expression that is a list of modules (list is
// set) or one module.
func (x *extractor) importEntries(n syntax.Node, k int, list bool) []importFact {
	return x.listEntries(n, k, list, false, 0)
}

func (x *extractor) listEntries(n syntax.Node, k int, list, optional bool, depth int) []importFact {
	n = n.Unparen()
	unknown := func(why string) []importFact {
		return []importFact{{Kind: importUnknown, Span: n.Span(), Why: x.ev.cause(n, "%s", why), Optional: optional}}
	}
	if depth > 32 {
		return unknown("nested too deeply")
	}
	if list {
		switch n.Kind() {
		case syntax.List:
			var out []importFact
			for _, el := range n.Children(syntax.FieldElement) {
				out = append(out, x.listEntries(el, k, false, optional, depth+1)...)
			}
			return out
		case syntax.Binary:
			if n.Child(syntax.FieldOperator).Is("++") {
				return append(x.listEntries(n.Child(syntax.FieldLeft), k, true, optional, depth+1),
					x.listEntries(n.Child(syntax.FieldRight), k, true, optional, depth+1)...)
			}
		case syntax.Let, syntax.With, syntax.Assert:
			return x.listEntries(n.Child(syntax.FieldBody), k, true, optional, depth+1)
		case syntax.If:
			return append(x.listEntries(n.Child(syntax.FieldConsequence), k, true, true, depth+1),
				x.listEntries(n.Child(syntax.FieldAlternative), k, true, true, depth+1)...)
		case syntax.Variable:
			if v := x.letValue(n); v.Valid() {
				return x.listEntries(v, k, true, optional, depth+1)
			}
			return unknown("the imports come from an argument")
		case syntax.Apply:
			fn, args := callee(n)
			name := calleeName(fn)
			last := args[len(args)-1]
			switch {
			case name == "optional" && len(args) == 2:
				return x.listEntries(last, k, false, true, depth+1)
			case name == "optionals" && len(args) == 2:
				return x.listEntries(last, k, true, true, depth+1)
			case name == "filter" && len(args) == 2:
				return x.listEntries(last, k, true, true, depth+1)
			case name == "flatten" && len(args) == 1:
				return x.listEntries(last, k, true, optional, depth+1)
			case name == "map" && len(args) == 2:
				if g, ok := x.globOf(args[0], last); ok {
					g.Optional = optional
					return []importFact{g}
				}
			case name == "attrValues" && len(args) == 1:
				if set := attrsetOf(last); set.Valid() {
					var out []importFact
					eachBinding(set, func(_ []syntax.Node, v syntax.Node) {
						if v.Kind() != syntax.Inherit && v.Kind() != syntax.InheritFrom {
							out = append(out, x.listEntries(v, k, false, optional, depth+1)...)
						}
					})
					return out
				}
			}
			if t, ok := x.importTree(n); ok {
				t.Optional = optional
				return []importFact{t}
			}
			return unknown("the imports are computed by " + nonEmpty(name, "a function"))
		}
	}
	// One module.
	switch n.Kind() {
	case syntax.Attrset, syntax.RecAttrset, syntax.Function, syntax.Let:
		if n.Kind() == syntax.Let && !attrsetOf(n).Valid() {
			break
		}
		return []importFact{{Kind: importInline, Span: n.Span(), Module: x.module(n, false), Optional: optional}}
	case syntax.Path, syntax.Binary:
		if target, ok := x.ev.pathValue(n); ok {
			return []importFact{{Kind: importFile, Span: n.Span(), Target: target, Optional: optional}}
		}
		if n.Kind() == syntax.Path {
			if g, ok := x.interpolatedGlob(n); ok {
				g.Optional = optional
				return []importFact{g}
			}
		}
	case syntax.Variable:
		if v := x.letValue(n); v.Valid() {
			return x.listEntries(v, k, false, optional, depth+1)
		}
	case syntax.Select:
		if ext, ok := x.externalModule(n); ok {
			ext.Optional = optional
			return []importFact{ext}
		}
	case syntax.Apply:
		fn, args := callee(n)
		switch name := calleeName(fn); {
		case name == "import" && len(args) >= 1:
			if target, ok := x.ev.pathValue(args[0]); ok {
				return []importFact{{Kind: importFile, Span: n.Span(), Target: target, Optional: optional}}
			}
		}
		if t, ok := x.importTree(n); ok {
			t.Optional = optional
			return []importFact{t}
		}
	}
	if list {
		return unknown("the imports are computed")
	}
	return unknown("a module the model cannot read")
}

// compileFull compiles a regular expression as builtins.match reads it:
// matching the whole string.
func compileFull(re string) (*regexp.Regexp, error) {
	return regexp.Compile("^(?:" + re + ")$")
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// letValue returns the value a variable is bound to by let or rec, or an
// invalid node.
func (x *extractor) letValue(v syntax.Node) syntax.Node {
	b := x.sc.lookup(v)
	if b == nil || b.kind != bindLet || !b.value.Valid() || b.value.Kind() == syntax.Identifier {
		return syntax.Node{}
	}
	return b.value
}

// externalModule recognises a module taken from a flake input:
// inputs.X.flakeModule, inputs.X.flakeModules.default, X.nixosModules.y
// where X is an input.
func (x *extractor) externalModule(n syntax.Node) (importFact, bool) {
	base, attrs := selectParts(n)
	if base.Kind() != syntax.Variable {
		return importFact{}, false
	}
	names := make([]string, len(attrs))
	for i, a := range attrs {
		names[i] = attrName(a)
	}
	b := x.sc.lookup(base)
	if b == nil {
		return importFact{}, false
	}
	if b.kind == bindLet || b.kind == bindInherit {
		return importFact{Kind: importExternal, Span: n.Span(), Why: x.ev.cause(n, "%s.%s is a module the model cannot read", base.Text(), strings.Join(names, "."))}, true
	}
	input := base.Text()
	if input == "inputs" && len(names) > 0 {
		input, names = names[0], names[1:]
	}
	if input == "self" || len(names) > 0 && names[0] == "self" {
		return importFact{Kind: importUnknown, Span: n.Span(), Why: x.ev.cause(n, "a module of the flake itself")}, true
	}
	return importFact{Kind: importExternal, Span: n.Span(), Input: input, Attr: names,
		Why: x.ev.cause(n, "%s comes from the flake input %s", strings.Join(append([]string{input}, names...), "."), input)}, true
}

// importTree reads import-tree calls: `import-tree ./dir`, `import-tree [
// ./a ./b ]`, and chains of its configuration methods (.filter, .match,
// .filterNot, .matchNot, .addPath, .withLib, .map) before the path.
func (x *extractor) importTree(n syntax.Node) (importFact, bool) {
	fn, args := callee(n)
	if len(args) == 0 {
		return importFact{}, false
	}
	t := importFact{Kind: importTree, Span: n.Span()}
	if !x.treeChain(fn, &t, args[:len(args)-1]) {
		return importFact{}, false
	}
	arg := args[len(args)-1].Unparen()
	var roots []syntax.Node
	if arg.Kind() == syntax.List {
		roots = arg.Children(syntax.FieldElement)
	} else {
		roots = []syntax.Node{arg}
	}
	if len(roots) != 1 {
		// Several roots: each becomes a tree of its own; the model keeps
		// the first one's entry and records the others after it.
		var first importFact
		for i, r := range roots {
			target, ok := x.ev.pathValue(r)
			if !ok {
				return importFact{Kind: importUnknown, Span: n.Span(), Why: x.ev.cause(r, "an import-tree root the model cannot read")}, true
			}
			if i == 0 {
				first = t
				first.Target = target
			}
		}
		return first, true
	}
	target, ok := x.ev.pathValue(roots[0])
	if !ok {
		return importFact{Kind: importUnknown, Span: n.Span(), Why: x.ev.cause(roots[0], "an import-tree root the model cannot read")}, true
	}
	t.Target = target
	return t, true
}

// treeChain reads the function part of an import-tree call; false when
// it is not import-tree (or listFilesRecursive).
func (x *extractor) treeChain(fn syntax.Node, t *importFact, extra []syntax.Node) bool {
	fn = fn.Unparen()
	switch fn.Kind() {
	case syntax.Variable:
		return isTreeName(fn.Text()) && len(extra) == 0
	case syntax.Select:
		base, attrs := selectParts(fn)
		if len(attrs) == 0 {
			return false
		}
		last := attrName(attrs[len(attrs)-1])
		if isTreeName(last) && len(extra) == 0 {
			return true
		}
		if !isTreeMethod(last) || len(extra) != 1 {
			return false
		}
		// base.<…>.method arg: the tree is base with the path before the
		// method; the argument configures it.
		prefix := base
		if len(attrs) > 1 {
			// inputs.import-tree.filter: check the attribute before.
			if !isTreeName(attrName(attrs[len(attrs)-2])) {
				return false
			}
		} else if !x.isTreeValue(prefix) {
			return false
		}
		x.treeMethod(last, extra[0], t)
		return true
	case syntax.Apply:
		// (import-tree.filter f).match re ./dir
		inner, innerArgs := callee(fn)
		if len(extra) != 0 {
			return false
		}
		return x.treeChain(inner, t, innerArgs)
	}
	return false
}

func isTreeName(s string) bool {
	return s == "import-tree" || s == "importTree" || s == "listFilesRecursive"
}

func isTreeMethod(s string) bool {
	switch s {
	case "filter", "filterNot", "match", "matchNot", "addPath", "withLib", "map", "initFilter", "addAPI":
		return true
	}
	return false
}

// isTreeValue reports whether n is an import-tree value: a variable named
// like it, or a chain ending in a method call on one.
func (x *extractor) isTreeValue(n syntax.Node) bool {
	n = n.Unparen()
	switch n.Kind() {
	case syntax.Variable:
		if isTreeName(n.Text()) {
			return true
		}
		if v := x.letValue(n); v.Valid() {
			return x.isTreeValue(v)
		}
	case syntax.Select:
		_, attrs := selectParts(n)
		return len(attrs) > 0 && isTreeName(attrName(attrs[len(attrs)-1]))
	case syntax.Apply:
		fn, _ := callee(n)
		_, attrs := selectParts(fn)
		return len(attrs) > 0 && (isTreeMethod(attrName(attrs[len(attrs)-1])) || isTreeName(attrName(attrs[len(attrs)-1])))
	}
	return false
}

// treeMethod applies one configuration method of import-tree.
func (x *extractor) treeMethod(method string, arg syntax.Node, t *importFact) {
	switch method {
	case "withLib", "addAPI":
	case "addPath":
		// Another root: its files are imported too, which the model does
		// not follow; it cannot be sure of the list.
		t.FilterUnread = true
	case "filter", "filterNot":
		ex, ok := x.pathPredicate(arg)
		if !ok {
			t.FilterUnread = true
			return
		}
		if method == "filter" {
			t.Exclude = append(t.Exclude, ex.excluded...)
			if ex.keepOnly != "" {
				t.Match = ex.keepOnly
			}
			if ex.unread {
				t.FilterUnread = true
			}
		} else {
			t.FilterUnread = true
		}
	case "match", "matchNot":
		if re, ok := stringLiteral(arg.Unparen()); ok && method == "match" {
			if _, err := compileFull(re); err == nil {
				t.Match = re
				return
			}
		}
		t.FilterUnread = true
	default:
		t.FilterUnread = true
	}
}

// predicate is what the model understands of a filter function over
// import-tree's relative paths ("/sub/file.nix").
type predicate struct {
	excluded []string // exact paths it rejects
	keepOnly string   // a regular expression it requires
	unread   bool
}

// pathPredicate reads `p: p != "/flake.nix"`, `p: !lib.hasInfix "x" p`
// and conjunctions of those; anything else is unread.
func (x *extractor) pathPredicate(fn syntax.Node) (predicate, bool) {
	fn = fn.Unparen()
	if fn.Kind() != syntax.Function || !fn.Child(syntax.FieldUniversal).Valid() || fn.Child(syntax.FieldFormals).Valid() {
		return predicate{}, false
	}
	param := fn.Child(syntax.FieldUniversal).Text()
	var p predicate
	var read func(e syntax.Node) bool
	read = func(e syntax.Node) bool {
		e = e.Unparen()
		if e.Kind() != syntax.Binary {
			p.unread = true
			return true
		}
		l, r := e.Child(syntax.FieldLeft).Unparen(), e.Child(syntax.FieldRight).Unparen()
		switch e.Child(syntax.FieldOperator).Text() {
		case "&&":
			return read(l) && read(r)
		case "!=":
			if l.Is(param) {
				if s, ok := stringLiteral(r); ok {
					p.excluded = append(p.excluded, s)
					return true
				}
			}
			if r.Is(param) {
				if s, ok := stringLiteral(l); ok {
					p.excluded = append(p.excluded, s)
					return true
				}
			}
		}
		p.unread = true
		return true
	}
	read(fn.Child(syntax.FieldBody))
	return p, true
}

// globOf reads `map (name: ./. + "/${name}/flake-module.nix") names` and
// `map (f: ./dir/${f}) (attrNames (readDir ./dir))`: the imported files
// are those of the pattern that exist.
func (x *extractor) globOf(fn, list syntax.Node) (importFact, bool) {
	fn = fn.Unparen()
	if fn.Kind() != syntax.Function || !fn.Child(syntax.FieldUniversal).Valid() {
		return importFact{}, false
	}
	param := fn.Child(syntax.FieldUniversal).Text()
	body := fn.Child(syntax.FieldBody).Unparen()
	dir, pattern, ok := x.pathPattern(body, param)
	if !ok {
		return importFact{}, false
	}
	return importFact{Kind: importGlob, Span: fn.Span(), Target: dir, Pattern: pattern}, true
}

// pathPattern turns a path built from a directory and the parameter into a
// glob relative to the directory: ./. + "/${name}/m.nix" -> "*/m.nix".
func (x *extractor) pathPattern(body syntax.Node, param string) (dir, pattern string, ok bool) {
	switch body.Kind() {
	case syntax.Binary:
		if !body.Child(syntax.FieldOperator).Is("+") {
			return "", "", false
		}
		base, ok := x.ev.pathValue(body.Child(syntax.FieldLeft))
		if !ok {
			return "", "", false
		}
		right := body.Child(syntax.FieldRight).Unparen()
		pat, ok := interpolationPattern(right, param)
		if !ok {
			return "", "", false
		}
		return base, strings.TrimPrefix(pat, "/"), true
	case syntax.Path:
		g, ok := x.interpolatedGlob(body)
		return g.Target, g.Pattern, ok && g.Pattern != ""
	}
	return "", "", false
}

// interpolationPattern renders a string whose interpolations are the
// parameter as a glob ("/${name}/m.nix" -> "/*/m.nix").
func interpolationPattern(n syntax.Node, param string) (string, bool) {
	if n.Kind() != syntax.String && n.Kind() != syntax.Path {
		return "", false
	}
	var b strings.Builder
	for c := n.FirstChild(); c.Valid(); c = c.NextSibling() {
		switch c.Kind() {
		case syntax.StringFragment, syntax.PathFragment:
			b.WriteString(c.Text())
		case syntax.Interpolation:
			if !c.FirstNamed().Unparen().Is(param) {
				return "", false
			}
			b.WriteString("*")
		case syntax.EscapeSequence:
			b.WriteString(unescape(c.Text()))
		}
	}
	return b.String(), true
}

// interpolatedGlob reads ./dir/${x} and ./dir/${x}/m.nix as globs of dir.
func (x *extractor) interpolatedGlob(n syntax.Node) (importFact, bool) {
	first := n.FirstChild()
	if first.Kind() != syntax.PathFragment || !first.NextSibling().Valid() {
		return importFact{}, false
	}
	text := first.Text()
	cut := strings.LastIndex(text, "/")
	if cut < 0 {
		return importFact{}, false
	}
	dir, ok := x.ev.resolveRelative(text[:cut])
	if !ok {
		return importFact{}, false
	}
	var b strings.Builder
	b.WriteString(text[cut+1:])
	for c := first.NextSibling(); c.Valid(); c = c.NextSibling() {
		switch c.Kind() {
		case syntax.PathFragment:
			b.WriteString(c.Text())
		case syntax.Interpolation:
			b.WriteString("*")
		}
	}
	pattern := b.String()
	if !strings.HasSuffix(pattern, ".nix") && !strings.HasSuffix(pattern, "*") {
		return importFact{}, false
	}
	return importFact{Kind: importGlob, Span: n.Span(), Target: dir, Pattern: pattern}, true
}
