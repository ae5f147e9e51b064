package syntax

import (
	"bytes"

	sitter "github.com/tree-sitter/go-tree-sitter"

	"github.com/monoflake/monoflake/analysis/syntax/nixgrammar"
)

// Parser parses Nix source. A Parser is not safe for concurrent use: give
// each goroutine its own, and Close it when done.
type Parser struct {
	p *sitter.Parser
	g *grammar
}

// NewParser returns a parser for Nix.
func NewParser() *Parser {
	g := loadGrammar()
	p := sitter.NewParser()
	// The grammar is compiled in and its ABI checked by the tests; an error
	// here would be a build defect, not an input problem.
	if err := p.SetLanguage(g.lang); err != nil {
		panic("syntax: the bundled Nix grammar does not match the tree-sitter runtime: " + err.Error())
	}
	return &Parser{p: p, g: g}
}

// Close frees the parser's C memory.
func (p *Parser) Close() { p.p.Close() }

// Parse parses src. It never fails: syntax errors are reported in the tree's
// Errors, and the tree covers whatever could be recognised.
func (p *Parser) Parse(src []byte) *Tree {
	ts := p.parse(src, nil)
	defer ts.Close()
	return p.convert(src, ts)
}

// chunk bounds what one read callback hands to tree-sitter: go-tree-sitter
// copies each chunk into C memory, so handing it the whole rest of the file
// on every read would make reparsing quadratic.
const chunk = 64 << 10

func (p *Parser) parse(src []byte, old *sitter.Tree) *sitter.Tree {
	text := parserText(src)
	return p.p.ParseWithOptions(func(i int, _ sitter.Point) []byte {
		if i >= len(text) {
			return nil
		}
		return text[i:min(len(text), i+chunk)]
	}, old, nil)
}

// parserText returns the text tree-sitter sees, with two gaps of the
// grammar papered over without moving any offset (the tree's Src stays the
// original, so every node's text is what the user wrote):
//   - the grammar does not end a comment at a lone carriage return, although
//     Nix and LSP both treat it as a line break: it becomes a newline;
//   - a home path that starts with an interpolation (~/${x}) is an error to
//     the grammar although Nix reads it: it is parsed as ./${x}, which has
//     the same shape.
func parserText(src []byte) []byte {
	var text []byte
	edit := func(i int, b byte) {
		if text == nil {
			text = bytes.Clone(src)
		}
		text[i] = b
	}
	for i := bytes.IndexByte(src, '\r'); i >= 0 && i < len(src); i++ {
		if src[i] == '\r' && (i+1 == len(src) || src[i+1] != '\n') {
			edit(i, '\n')
		}
	}
	for off := 0; ; {
		i := bytes.Index(src[off:], []byte("~/${"))
		if i < 0 {
			break
		}
		edit(off+i, '.')
		off += i + 4
	}
	if text == nil {
		return src
	}
	return text
}

// errorSymbol is tree-sitter's symbol for ERROR nodes.
const errorSymbol = 0xFFFF

func (p *Parser) convert(src []byte, ts *sitter.Tree) *Tree {
	flat := nixgrammar.Flatten(ts.RootNode())
	t := &Tree{Src: src, Lines: NewLines(src), nodes: make([]node, len(flat))}
	// lastChild[i] is the most recent child appended to node i, so sibling
	// links are set in one pass over the pre-order array.
	lastChild := make([]int32, len(flat))
	for i, f := range flat {
		n := &t.nodes[i]
		n.start, n.end, n.parent = f.Start, f.End, f.Parent
		n.firstChild, n.nextSibling = -1, -1
		lastChild[i] = -1
		switch {
		case f.Symbol == errorSymbol:
			n.kind = Error
		case int(f.Symbol) < len(p.g.kinds):
			n.kind = p.g.kinds[f.Symbol]
		}
		if int(f.Field) < len(p.g.fields) {
			n.field = p.g.fields[f.Field]
		}
		n.flags = f.Flags
		if f.Parent >= 0 {
			if prev := lastChild[f.Parent]; prev >= 0 {
				t.nodes[prev].nextSibling = int32(i)
			} else {
				t.nodes[f.Parent].firstChild = int32(i)
			}
			lastChild[f.Parent] = int32(i)
		}
	}
	t.Errors = p.problems(t, flat)
	return t
}
