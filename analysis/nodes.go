package analysis

import (
	"strings"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// Helpers for reading Nix syntax trees. None of them looks at another file.

// functionBody strips function headers: `{ a, ... }: x: body` -> body, and
// returns the outermost function (invalid when n is no function).
func functionBody(n syntax.Node) (body, fn syntax.Node) {
	n = n.Unparen()
	if n.Kind() == syntax.Function {
		fn = n
	}
	for n.Kind() == syntax.Function {
		n = n.Child(syntax.FieldBody).Unparen()
	}
	return n, fn
}

// letBody strips let and with wrappers and assertions: `let … in body` ->
// body.
func letBody(n syntax.Node) syntax.Node {
	n = n.Unparen()
	for {
		switch n.Kind() {
		case syntax.Let, syntax.With, syntax.Assert:
			n = n.Child(syntax.FieldBody).Unparen()
		default:
			return n
		}
	}
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

// eachBinding calls fn for every binding of an attrset (or let, or rec)
// with its attribute path and value; `inherit a;` and `inherit (x) a;` are
// reported as paths [a] with the inherit node as value.
func eachBinding(set syntax.Node, fn func(path []syntax.Node, value syntax.Node)) {
	bs := set.FirstNamedOf(syntax.BindingSet)
	for b := bs.FirstChild(); b.Valid(); b = b.NextSibling() {
		switch b.Kind() {
		case syntax.Binding:
			fn(b.Child(syntax.FieldAttrpath).Children(syntax.FieldAttr), b.Child(syntax.FieldExpression))
		case syntax.Inherit, syntax.InheritFrom:
			for _, a := range b.Child(syntax.FieldAttrs).Children(syntax.FieldAttr) {
				fn([]syntax.Node{a}, b)
			}
		}
	}
}

// isDynamic reports whether an attribute name is computed: an
// interpolation, or a string with one. `${"x"}` is not: Nix reads it as x.
func isDynamic(attr syntax.Node) bool {
	_, ok := staticName(attr)
	return !ok
}

// staticName returns an attribute's name when it is known without
// evaluation: an identifier, a string literal, or an interpolation of a
// string literal.
func staticName(attr syntax.Node) (string, bool) {
	switch attr.Kind() {
	case syntax.Identifier:
		return attr.Text(), true
	case syntax.String:
		return stringLiteral(attr)
	case syntax.Interpolation:
		return stringLiteral(attr.FirstNamed().Unparen())
	}
	return "", false
}

// attrName returns an attribute's name, or its text when it is computed.
func attrName(attr syntax.Node) string {
	if s, ok := staticName(attr); ok {
		return s
	}
	return attr.Text()
}

// stringLiteral returns the value of a string without interpolation.
func stringLiteral(n syntax.Node) (string, bool) {
	if n.Kind() != syntax.String && n.Kind() != syntax.IndentedString {
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
	return strings.TrimPrefix(strings.TrimPrefix(s, `''`), `\`)
}

// callee returns the function of an application, looking through curried
// applications (`f a b` -> f), and the arguments in order.
func callee(n syntax.Node) (fn syntax.Node, args []syntax.Node) {
	n = n.Unparen()
	for n.Kind() == syntax.Apply {
		args = append(args, n.Child(syntax.FieldArgument))
		n = n.Child(syntax.FieldFunction).Unparen()
	}
	for i, j := 0, len(args)-1; i < j; i, j = i+1, j-1 {
		args[i], args[j] = args[j], args[i]
	}
	return n, args
}

// calleeName returns the last attribute of the function being applied:
// `a.lib.mkFlake x` -> "mkFlake", `import ./x` -> "import".
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
			return attrName(attrs[len(attrs)-1])
		}
	}
	return ""
}

// selectParts splits `base.a.b` into its base expression and attributes.
func selectParts(n syntax.Node) (base syntax.Node, attrs []syntax.Node) {
	n = n.Unparen()
	if n.Kind() != syntax.Select {
		return n, nil
	}
	return n.Child(syntax.FieldExpression).Unparen(), n.Child(syntax.FieldAttrpath).Children(syntax.FieldAttr)
}

// parentExpr returns the nearest ancestor that is an expression, looking
// through parentheses.
func parentExpr(n syntax.Node) syntax.Node {
	p := n.Parent()
	for p.Kind() == syntax.Parenthesized {
		p = p.Parent()
	}
	return p
}

// bindingName returns the attribute path of the binding whose value is n
// (looking through parentheses), or nil.
func bindingName(n syntax.Node) []syntax.Node {
	p := parentExpr(n)
	if p.Kind() != syntax.Binding {
		return nil
	}
	return p.Child(syntax.FieldAttrpath).Children(syntax.FieldAttr)
}

// nixKeywords cannot be attribute names of a select or an attribute path
// without quotes: Nix's parser rejects `a.assert`.
var nixKeywords = map[string]bool{
	"assert": true, "else": true, "if": true, "in": true, "inherit": true, "let": true,
	"rec": true, "then": true, "with": true,
}
