package syntax

// Tree is a parsed Nix file held in Go memory: a pre-order array of nodes
// with parent, first-child and next-sibling links. It owns no C memory, so
// analysis can keep or drop it freely and read it from any goroutine.
type Tree struct {
	Src    []byte
	Lines  *Lines
	Errors []Problem // syntax errors, one per error region
	nodes  []node
}

type node struct {
	start, end  uint32
	parent      int32
	firstChild  int32
	nextSibling int32
	kind        Kind
	field       Field
	flags       uint8
}

const (
	flagNamed   = 1
	flagMissing = 2
	flagExtra   = 4
)

// Node is a node of a Tree. The zero Node is absent: Valid reports false
// and every accessor returns a zero value, so navigation chains need no
// checks in between.
type Node struct {
	t  *Tree
	id int32
}

// Root returns the source_code node.
func (t *Tree) Root() Node {
	if t == nil || len(t.nodes) == 0 {
		return Node{}
	}
	return Node{t, 0}
}

// Valid reports whether the node exists.
func (n Node) Valid() bool { return n.t != nil }

// ID is the node's index in its tree's pre-order: unique within the tree,
// smaller for ancestors and earlier siblings, so it can key side tables.
func (n Node) ID() int32 { return n.id }

// Len returns the number of nodes of the tree.
func (t *Tree) Len() int { return len(t.nodes) }

// Node returns the node with the given ID.
func (t *Tree) Node(id int32) Node {
	if t == nil || id < 0 || int(id) >= len(t.nodes) {
		return Node{}
	}
	return Node{t, id}
}

// SubtreeEnd returns the pre-order ID that follows n's subtree: the IDs of n's
// descendants are exactly those in (n.ID(), n.SubtreeEnd()).
func (n Node) SubtreeEnd() int32 {
	if n.t == nil {
		return 0
	}
	return n.skip()
}

func (n Node) raw() *node { return &n.t.nodes[n.id] }

// Kind returns the node's kind; Other for an absent node.
func (n Node) Kind() Kind {
	if n.t == nil {
		return Other
	}
	return n.raw().kind
}

// Field returns the role the node plays in its parent.
func (n Node) Field() Field {
	if n.t == nil {
		return NoField
	}
	return n.raw().field
}

// Named reports whether the node is a named node rather than a token.
func (n Node) Named() bool { return n.t != nil && n.raw().flags&flagNamed != 0 }

// Missing reports whether the parser inserted the node to recover from an
// error; it has no text.
func (n Node) Missing() bool { return n.t != nil && n.raw().flags&flagMissing != 0 }

// Start returns the byte offset where the node starts.
func (n Node) Start() int {
	if n.t == nil {
		return 0
	}
	return int(n.raw().start)
}

// End returns the byte offset just past the node.
func (n Node) End() int {
	if n.t == nil {
		return 0
	}
	return int(n.raw().end)
}

// Span returns the node's byte range.
func (n Node) Span() Span { return Span{n.Start(), n.End()} }

// Text returns the node's source text.
func (n Node) Text() string {
	if n.t == nil {
		return ""
	}
	r := n.raw()
	return string(n.t.Src[r.start:r.end])
}

// Is reports whether the node's text equals s without allocating.
func (n Node) Is(s string) bool {
	if n.t == nil {
		return false
	}
	r := n.raw()
	return int(r.end-r.start) == len(s) && string(n.t.Src[r.start:r.end]) == s
}

// Parent returns the enclosing node.
func (n Node) Parent() Node { return n.link(n.raw0().parent) }

// FirstChild returns the first child, tokens included.
func (n Node) FirstChild() Node { return n.link(n.raw0().firstChild) }

// NextSibling returns the next child of the same parent, tokens included.
func (n Node) NextSibling() Node { return n.link(n.raw0().nextSibling) }

// Child returns the first child playing the given role.
func (n Node) Child(f Field) Node {
	for c := n.FirstChild(); c.Valid(); c = c.NextSibling() {
		if c.Field() == f {
			return c
		}
	}
	return Node{}
}

// Children returns the children playing the given role, in order.
func (n Node) Children(f Field) []Node {
	var out []Node
	for c := n.FirstChild(); c.Valid(); c = c.NextSibling() {
		if c.Field() == f {
			out = append(out, c)
		}
	}
	return out
}

// NamedChildren returns the named children except comments.
func (n Node) NamedChildren() []Node {
	var out []Node
	for c := n.FirstChild(); c.Valid(); c = c.NextSibling() {
		if c.Named() && c.Kind() != Comment {
			out = append(out, c)
		}
	}
	return out
}

// FirstNamed returns the first named child that is not a comment.
func (n Node) FirstNamed() Node {
	for c := n.FirstChild(); c.Valid(); c = c.NextSibling() {
		if c.Named() && c.Kind() != Comment {
			return c
		}
	}
	return Node{}
}

// Tree returns the tree the node belongs to.
func (n Node) Tree() *Tree { return n.t }

var absent node = node{parent: -1, firstChild: -1, nextSibling: -1}

func (n Node) raw0() *node {
	if n.t == nil {
		return &absent
	}
	return n.raw()
}

func (n Node) link(id int32) Node {
	if id < 0 || n.t == nil {
		return Node{}
	}
	return Node{n.t, id}
}

// Unparen strips parentheses around an expression.
func (n Node) Unparen() Node {
	for n.Kind() == Parenthesized {
		n = n.FirstNamed()
	}
	return n
}

// Walk calls visit for every node below and including n in pre-order; when
// visit returns false the node's children are skipped. It does not recurse,
// so any nesting depth is safe.
func (n Node) Walk(visit func(Node) bool) {
	if n.t == nil {
		return
	}
	// A subtree is a contiguous run of the pre-order array.
	stop := n.skip()
	for i := n.id; i < stop; {
		c := Node{n.t, i}
		if visit(c) {
			i++
		} else {
			i = c.skip()
		}
	}
}

// skip returns the pre-order index following n's subtree.
func (n Node) skip() int32 {
	for id := n.id; id >= 0; id = n.t.nodes[id].parent {
		if s := n.t.nodes[id].nextSibling; s >= 0 {
			return s
		}
	}
	return int32(len(n.t.nodes))
}

// Span is a half-open byte range of a file.
type Span struct {
	Start, End int
}

// Contains reports whether offset lies in the span; the end counts, so a
// cursor just after a name still finds it.
func (s Span) Contains(offset int) bool { return s.Start <= offset && offset <= s.End }

// Len returns the number of bytes in the span.
func (s Span) Len() int { return s.End - s.Start }

// Sexp renders the named nodes below n as an S-expression with field
// names, for tests and debugging.
func (n Node) Sexp() string {
	var b []byte
	var rec func(Node)
	rec = func(n Node) {
		b = append(b, '(')
		b = append(b, n.Kind().String()...)
		for c := n.FirstChild(); c.Valid(); c = c.NextSibling() {
			if !c.Named() && c.Kind() != Error {
				continue
			}
			b = append(b, ' ')
			if f := c.Field(); f != NoField {
				b = append(b, fieldNames[f]...)
				b = append(b, ": "...)
			}
			rec(c)
		}
		b = append(b, ')')
	}
	if n.Valid() {
		rec(n)
	}
	return string(b)
}

// FirstNamedOf returns the first child of the given kind.
func (n Node) FirstNamedOf(k Kind) Node {
	for c := n.FirstChild(); c.Valid(); c = c.NextSibling() {
		if c.Kind() == k {
			return c
		}
	}
	return Node{}
}
