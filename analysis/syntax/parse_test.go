package syntax

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseShapes(t *testing.T) {
	p := NewParser()
	defer p.Close()
	tree := p.Parse([]byte(`{ self', ... }: { x = self'.packages.backend; }`))
	require.Empty(t, tree.Errors)
	require.Equal(t,
		"(source_code expression: (function_expression formals: (formals formal: (formal name: (identifier)) ellipses: (ellipses)) body: (attrset_expression (binding_set binding: (binding attrpath: (attrpath attr: (identifier)) expression: (select_expression expression: (variable_expression name: (identifier)) attrpath: (attrpath attr: (identifier) attr: (identifier))))))))",
		tree.Root().Sexp())
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name        string
		src         string
		want        []string // messages
		unsupported bool
	}{
		{"valid", "{ a = 1; }", nil, false},
		{"missing semicolon", "{ a = 1 }", []string{"missing `;`"}, false},
		{"stray token", "{ a = 1; ] }", []string{"unexpected `]`"}, false},
		{"pipe operator", "{ a = x |> f; }", []string{"the pipe operators"}, true},
		{"reverse pipe operator", "{ a = f <| x; }", []string{"the pipe operators"}, true},
		{"interpolated path", "{ a = ./${x}/b.nix; }", nil, false},
		{"comment ended by a lone CR", "# comment\r{ a = 1; }", nil, false},
		{"home path starting with an interpolation", "{\n  home = ~/${foo};\n}\n", nil, false},
		{"home path in a string is left alone", "{\n  s = \"~/${foo}\";\n}\n", nil, false},
	}
	p := NewParser()
	defer p.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := p.Parse([]byte(tt.src))
			require.Len(t, tree.Errors, len(tt.want), "%+v", tree.Errors)
			for i, w := range tt.want {
				require.Contains(t, tree.Errors[i].Message, w)
				require.Equal(t, tt.unsupported, tree.Errors[i].Unsupported)
			}
		})
	}
}

func TestParseHostileInput(t *testing.T) {
	p := NewParser()
	defer p.Close()
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	tests := map[string][]byte{
		"deep nesting": []byte(deep),
		"binary":       {0, 1, 2, 0xff, 0xfe, '{', 0},
		"invalid utf8": []byte("{ a = \"\xff\xfe\"; }"),
		"empty":        {},
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			tree := p.Parse(src)
			require.True(t, tree.Root().Valid())
			require.Equal(t, len(src), tree.Root().End())
			count := 0
			tree.Root().Walk(func(Node) bool { count++; return true })
			require.Equal(t, len(tree.nodes), count, "Walk visits every node once")
		})
	}
}

func TestIncrementalEditMatchesFullParse(t *testing.T) {
	p := NewParser()
	defer p.Close()
	src := "{\n  a = 1;\n  b = \"中😀\";\n  c = [ 1 2 3 ];\n}\n"
	doc := p.Open([]byte(src))
	defer doc.Close()
	steps := []Change{
		{Start: 6, End: 7, Text: []byte("42")},                  // a = 42
		{Start: 2, End: 2, Text: []byte("z = { y = 2; };\n  ")}, // insert a binding
		{Start: 0, End: 0, Text: []byte("# header\n")},
		{Start: 10, End: 13, Text: nil}, // delete into the middle of a binding
	}
	text := []byte(src)
	for i, ch := range steps {
		next, err := p.Edit(doc, ch)
		require.NoError(t, err)
		text = append(append(append([]byte{}, text[:ch.Start]...), ch.Text...), text[ch.End:]...)
		require.Equal(t, string(text), string(next.Tree.Src), "step %d", i)
		full := p.Parse(text)
		require.Equal(t, full.Root().Sexp(), next.Tree.Root().Sexp(), "step %d", i)
		require.Equal(t, len(full.Errors), len(next.Tree.Errors), "step %d", i)
		doc.Close()
		doc = next
	}
	_, err := p.Edit(doc, Change{Start: 5, End: 1 << 20})
	require.Error(t, err)
}
