package analysis

import (
	"strings"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// Errors nix's parser reports beyond the grammar: attributes defined twice,
// keywords used as attribute names, and (from the scopes) undefined
// variables and duplicate formal arguments. Like nix, the model reports
// them only for a file the grammar read without errors: nix stops at the
// first.

func (x *extractor) problems() {
	if len(x.tree.Errors) > 0 {
		return
	}
	var keywords []Diagnostic
	x.tree.Root().Walk(func(n syntax.Node) bool {
		switch n.Kind() {
		case syntax.Attrset, syntax.RecAttrset, syntax.Let, syntax.LetAttrset:
			x.duplicateAttrs(n)
		case syntax.Attrpath:
			for _, a := range n.Children(syntax.FieldAttr) {
				if a.Kind() == syntax.Identifier && nixKeywords[a.Text()] {
					keywords = append(keywords, Diagnostic{Loc: Location{File: x.path, Span: a.Span()}, Severity: SeverityError, Code: CodeSyntax,
						Message: "unexpected `" + a.Text() + "`: a keyword is not an attribute name unless quoted"})
				}
			}
		}
		return true
	})
	if len(keywords) > 0 {
		// A parse error: nix reports it and nothing else.
		x.f.Problems = append(x.f.Problems, keywords[0])
		return
	}
	x.f.Problems = append(x.f.Problems, x.sc.problems...)
}

// attrTrie is the attribute paths one attrset defines, merged as Nix
// merges them: `a.x = 1; a.y = 2;` and `a = { x = 1; }; a.y = 2;` are one
// set a.
type attrTrie struct {
	leaf     bool
	origin   int // index of the binding of the attrset that defined it
	children map[string]*attrTrie
}

// duplicateAttrs reports attributes an attrset (or let) defines twice.
// Each attrset is checked once; a nested literal set is merged into its
// parent's check only when the parent also defines its name by a dotted
// path, and a conflict inside the nested set alone is left to its own
// check, so that no work is repeated and no error reported twice.
func (x *extractor) duplicateAttrs(set syntax.Node) {
	type entry struct {
		name  string
		path  []syntax.Node
		value syntax.Node
	}
	var entries []entry
	dotted := false
	eachBinding(set, func(path []syntax.Node, value syntax.Node) {
		if len(path) == 0 || isDynamic(path[0]) {
			return
		}
		entries = append(entries, entry{attrName(path[0]), path, value})
		dotted = dotted || len(path) > 1
	})
	if len(entries) < 2 {
		return
	}
	// Most sets define each name once by a plain attribute: nothing to
	// merge, so no trie is built.
	if !dotted {
		seen := make(map[string]struct{}, len(entries))
		dup := false
		for _, e := range entries {
			if _, ok := seen[e.name]; ok {
				dup = true
				break
			}
			seen[e.name] = struct{}{}
		}
		if !dup {
			return
		}
	}
	byName := map[string][]int{}
	for i, e := range entries {
		byName[e.name] = append(byName[e.name], i)
	}
	for _, idx := range byName {
		if len(idx) == 1 {
			continue // one binding cannot conflict with itself; a set it holds is checked on its own
		}
		root := &attrTrie{}
		for _, i := range idx {
			x.addAttrPath(root, entries[i].path, entries[i].value, i, true)
		}
	}
}

// addAttrPath adds one binding to the trie. origin is the binding's index
// in the attrset checked; descend is false inside a nested literal set,
// whose own conflicts are reported by its own check.
func (x *extractor) addAttrPath(t *attrTrie, path []syntax.Node, value syntax.Node, origin int, top bool) {
	for i, a := range path {
		if isDynamic(a) {
			return
		}
		name := attrName(a)
		if t.leaf {
			return // already reported at the conflicting prefix
		}
		if t.children == nil {
			t.children = map[string]*attrTrie{}
		}
		child, seen := t.children[name]
		last := i == len(path)-1
		mergeable := last && isMergeableSet(value)
		switch {
		case seen && (child.leaf || last && !mergeable):
			if child.origin != origin || top {
				x.f.Problems = append(x.f.Problems, Diagnostic{
					Loc:      Location{File: x.path, Span: a.Span()},
					Severity: SeverityError,
					Code:     CodeDuplicateAttr,
					Message:  "attribute '" + dottedName(path[:i+1]) + "' is already defined",
				})
			}
			return
		case !seen:
			child = &attrTrie{origin: origin}
			t.children[name] = child
		}
		t = child
		if last {
			if mergeable {
				eachBinding(attrsetOf(value.Unparen()), func(p []syntax.Node, v syntax.Node) {
					x.addAttrPath(t, p, v, origin, false)
				})
			} else {
				t.leaf = true
			}
		}
	}
}

// isMergeableSet reports values Nix merges with other definitions of the
// same attribute: literal attrsets, rec ones included.
func isMergeableSet(v syntax.Node) bool {
	switch v.Unparen().Kind() {
	case syntax.Attrset, syntax.RecAttrset:
		return true
	}
	return false
}

func dottedName(path []syntax.Node) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = attrName(p)
	}
	return strings.Join(parts, ".")
}
