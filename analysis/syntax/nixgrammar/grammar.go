// Package nixgrammar binds the Nix tree-sitter grammar (tree-sitter-nix
// v0.3.0) for go-tree-sitter.
//
// The grammar's generated C sources are not committed: `make grammar` fetches
// them through the Go module proxy, checks their module hash and copies them
// into the git-ignored src folder beside this file. Without that step the
// package fails to compile with a single error naming the make target.
package nixgrammar

/*
#cgo CFLAGS: -std=c11 -I${SRCDIR}/src -Wno-unused-parameter -Wno-unused-but-set-variable
#include <stdlib.h>
#include "language.h"
#include "flatten.h"

static void use_libc_allocator(void) {
	ts_set_allocator(malloc, calloc, realloc, free);
}
*/
import "C"

import (
	"unsafe"

	sitter "github.com/tree-sitter/go-tree-sitter"
)

// Language returns the Nix language for a go-tree-sitter parser.
func Language() *sitter.Language {
	return sitter.NewLanguage(unsafe.Pointer(C.tree_sitter_nix()))
}

// UseLibcAllocator makes the tree-sitter runtime allocate with libc
// directly. go-tree-sitter routes every allocation of the runtime through a
// Go callback (to let Go programs swap allocators), which costs a C-to-Go
// transition per tree node and made parsing two to three times slower.
// Its callbacks end in the same libc functions, so memory allocated before
// the switch is still freed correctly. Call it before parsing.
func UseLibcAllocator() { C.use_libc_allocator() }

// Flags of a FlatNode.
const (
	Named   = C.MF_NAMED
	Missing = C.MF_MISSING
	Extra   = C.MF_EXTRA
)

// FlatNode is one node of a flattened tree, in pre-order. Its layout matches
// the C struct mf_node.
type FlatNode struct {
	Start  uint32
	End    uint32
	Parent int32
	Symbol uint16
	Field  uint16
	Flags  uint8
	_      [3]byte
}

// Flatten copies every node of the tree below root into a pre-order slice.
// It is one cgo call however large the tree is.
func Flatten(root *sitter.Node) []FlatNode {
	count := root.DescendantCount()
	if count == 0 || count > 1<<31-1 {
		return nil
	}
	out := make([]FlatNode, count)
	// go-tree-sitter documents Node as a C-compatible wrapper of TSNode.
	n := C.mf_flatten(*(*C.TSNode)(unsafe.Pointer(root)), (*C.mf_node)(unsafe.Pointer(&out[0])), C.int32_t(len(out)))
	return out[:n]
}
