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
#include "language.h"
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
