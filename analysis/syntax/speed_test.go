package syntax

import (
	"bytes"
	"testing"
)

// BenchmarkParseAndConvert splits a parse of 1 MB of nested attrsets into
// tree-sitter's own parse and the conversion into the Go-side tree, so a
// slowdown shows which half it is in.
func BenchmarkParseAndConvert(b *testing.B) {
	src := append([]byte("{ "), append(bytes.Repeat([]byte("a = { b = \"x\"; c = [ 1 2 ]; }; "), 1<<20/30), '}')...)
	p := NewParser()
	defer p.Close()
	b.Run("parse", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			p.parse(src, nil).Close()
		}
	})
	b.Run("convert", func(b *testing.B) {
		ts := p.parse(src, nil)
		defer ts.Close()
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			p.convert(src, ts)
		}
	})
}
