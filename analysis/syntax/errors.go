package syntax

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/monoflake/monoflake/analysis/syntax/nixgrammar"
)

// Problem is a syntax error: one per error region of a file.
type Problem struct {
	Span    Span
	Message string
	// Unsupported marks legal Nix that the grammar cannot read (the pipe
	// operators, a path starting with an interpolation): not the user's
	// mistake, so it is reported more gently than a real error.
	Unsupported bool
}

func (p *Parser) problems(t *Tree, flat []nixgrammar.FlatNode) []Problem {
	var out []Problem
	t.Root().Walk(func(n Node) bool {
		switch {
		case n.Kind() == Error:
			out = append(out, errorProblem(n))
			return false
		case n.Missing():
			name := p.g.lang.NodeKindForId(flat[n.id].Symbol)
			out = append(out, Problem{Span: Span{n.Start(), n.Start()}, Message: fmt.Sprintf("missing %s", describeToken(name))})
			return false
		}
		return true
	})
	return out
}

func errorProblem(n Node) Problem {
	span := n.Span()
	if unsupported, ok := grammarGap(n); ok {
		return Problem{Span: span, Message: unsupported, Unsupported: true}
	}
	tok := firstToken(n)
	if !tok.Valid() || tok.Start() == tok.End() {
		return Problem{Span: span, Message: "syntax error"}
	}
	return Problem{Span: span, Message: "unexpected " + describeToken(tok.Text())}
}

// grammarGap recognises legal constructs tree-sitter-nix v0.3.0 cannot
// parse. The pipe operators leave an error on one of their two characters,
// so the bytes around the region are looked at too.
func grammarGap(n Node) (string, bool) {
	src := n.t.Src
	around := src[max(0, n.Start()-1):min(len(src), n.End()+1)]
	if bytes.Contains(around, []byte("|>")) || bytes.Contains(around, []byte("<|")) {
		return "the pipe operators (|> and <|, an experimental Nix feature) are not understood by monoflake's parser; this region is not analysed", true
	}
	return "", false
}

// firstToken returns the first leaf with text inside n.
func firstToken(n Node) Node {
	var leaf Node
	n.Walk(func(c Node) bool {
		if leaf.Valid() {
			return false
		}
		if !c.FirstChild().Valid() && c.End() > c.Start() {
			leaf = c
			return false
		}
		return true
	})
	return leaf
}

func describeToken(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		s = f[0]
	}
	if r := []rune(s); len(r) > 24 {
		s = string(r[:24]) + "…"
	}
	return "`" + s + "`"
}
