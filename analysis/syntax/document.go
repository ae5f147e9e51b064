package syntax

import (
	"bytes"
	"fmt"

	sitter "github.com/tree-sitter/go-tree-sitter"
)

// Document is an editor buffer being edited: its current Tree plus the
// tree-sitter tree kept so that the next edit reparses incrementally. A
// Document is immutable; Edit returns a new one. Close the ones you drop.
type Document struct {
	Tree *Tree
	ts   *sitter.Tree
}

// Open parses src as the first version of an edited buffer.
func (p *Parser) Open(src []byte) *Document {
	ts := p.parse(src, nil)
	return &Document{Tree: p.convert(src, ts), ts: ts}
}

// Change replaces the bytes [Start, End) of a document with Text.
type Change struct {
	Start, End int
	Text       []byte
}

// Edit applies changes in order (each against the text the previous one
// produced) and reparses incrementally, reusing the unchanged parts of the
// old tree. The old document stays valid.
func (p *Parser) Edit(d *Document, changes ...Change) (*Document, error) {
	src := d.Tree.Src
	ts := d.ts.Clone()
	for _, c := range changes {
		if c.Start < 0 || c.Start > c.End || c.End > len(src) {
			ts.Close()
			return nil, fmt.Errorf("edit [%d,%d) is outside the document's %d bytes", c.Start, c.End, len(src))
		}
		next := make([]byte, 0, len(src)-(c.End-c.Start)+len(c.Text))
		next = append(append(append(next, src[:c.Start]...), c.Text...), src[c.End:]...)
		start := tsPoint(src, c.Start)
		ts.Edit(&sitter.InputEdit{
			StartByte:      uint(c.Start),
			OldEndByte:     uint(c.End),
			NewEndByte:     uint(c.Start + len(c.Text)),
			StartPosition:  start,
			OldEndPosition: tsPoint(src, c.End),
			NewEndPosition: advance(start, c.Text),
		})
		src = next
	}
	newTS := p.parse(src, ts)
	ts.Close()
	return &Document{Tree: p.convert(src, newTS), ts: newTS}, nil
}

// Close frees the document's C memory. The Tree stays usable.
func (d *Document) Close() {
	if d != nil && d.ts != nil {
		d.ts.Close()
		d.ts = nil
	}
}

// tsPoint is tree-sitter's row/column for an offset: rows count "\n" only
// and columns are bytes.
func tsPoint(src []byte, offset int) sitter.Point {
	before := src[:offset]
	row := bytes.Count(before, []byte{'\n'})
	return sitter.Point{Row: uint(row), Column: uint(offset - (bytes.LastIndexByte(before, '\n') + 1))}
}

func advance(p sitter.Point, text []byte) sitter.Point {
	if n := bytes.Count(text, []byte{'\n'}); n > 0 {
		return sitter.Point{Row: p.Row + uint(n), Column: uint(len(text) - (bytes.LastIndexByte(text, '\n') + 1))}
	}
	return sitter.Point{Row: p.Row, Column: p.Column + uint(len(text))}
}
