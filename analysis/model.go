// Package analysis is monoflake's model of a Nix flake monorepo: which
// directories are components, which flake outputs each defines, how files
// and components reference each other, and what is wrong statically. It is
// protocol-agnostic (it knows neither LSP nor JSON-RPC) and never runs nix.
//
// Everything is read from an immutable Snapshot; an edit produces a new
// Snapshot sharing everything unchanged with the old one. Features are plain
// functions from (Snapshot, file, offset) to plain data.
package analysis

import (
	"fmt"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// Location is a byte range of a file. File is an absolute, clean path.
type Location struct {
	File string
	Span syntax.Span
}

// Per-system output categories of a flake.
const (
	Packages       = "packages"
	DevShells      = "devShells"
	Apps           = "apps"
	Checks         = "checks"
	Formatter      = "formatter"
	LegacyPackages = "legacyPackages"
)

// perSystemCategories are the outputs that a perSystem module defines and
// that self' / config give access to.
var perSystemCategories = map[string]bool{
	Packages: true, DevShells: true, Apps: true, Checks: true, Formatter: true, LegacyPackages: true,
}

// Output is one flake output a component defines, such as
// packages.backend or flake-level nixosModules.infra.
type Output struct {
	Category  string // packages, devShells, ... or a flake-level category such as nixosModules
	Name      string
	FlakeOnly bool   // defined at flake level (flake.nixosModules.x), not per system
	System    string // the literal system of a flake-level per-system output, if any
	Component string // name of the defining component
	Def       Location
}

// Key returns "category.name", how users write an output.
func (o *Output) Key() string { return o.Category + "." + o.Name }

// RefKind says what a reference points at.
type RefKind uint8

// Reference kinds.
const (
	// OutputRef refers to a flake output: self'.packages.x, inputs'.sub.packages.x, ...
	OutputRef RefKind = iota
	// FileRef is a path literal: a file or directory.
	FileRef
	// ImportRef is a path that is imported as Nix code: an imports list
	// entry, `import ./x.nix`, `callPackage ./x { }`.
	ImportRef
)

// Reference is one indexed use of an output or a file.
type Reference struct {
	Kind RefKind
	Loc  Location // the name (for outputs) or the whole path literal
	// For OutputRef:
	Category string
	Name     string
	Input    string // the flake input the output comes from; "" for self
	// For FileRef and ImportRef: the absolute path named.
	Target string
	// optional marks a path whose existence the code tests first.
	optional bool
}

// Component is a directory of the repository that contributes flake outputs.
type Component struct {
	Name     string
	Dir      string   // absolute
	Modules  []string // module files imported into the flake (absolute), or the sub-flake's flake.nix
	Files    []string // every Nix file that belongs to the component, sorted
	Outputs  []*Output
	Deps     []string // names of components whose outputs this one references, sorted
	SubFlake bool
}

// Severity of a diagnostic.
type Severity uint8

// Severities, most severe first.
const (
	SeverityError Severity = iota + 1
	SeverityWarning
	SeverityInfo
)

func (s Severity) String() string {
	switch s {
	case SeverityError:
		return "error"
	case SeverityWarning:
		return "warning"
	default:
		return "info"
	}
}

// Diagnostic codes. They are stable: users silence them by code.
const (
	CodeSyntax          = "syntax"
	CodeUnknownOutput   = "unknown-output"
	CodeMissingPath     = "missing-path"
	CodeOrphanModule    = "orphan-module"
	CodeDuplicateOutput = "duplicate-output"
	CodeDuplicateAttr   = "duplicate-attr"
	CodeUnreadable      = "unreadable-file"
)

// Diagnostic is a static problem found in a file.
type Diagnostic struct {
	Loc      Location
	Severity Severity
	Code     string
	Message  string
}

func (d Diagnostic) String() string {
	return fmt.Sprintf("%s: %s: %s [%s]", d.Loc.File, d.Severity, d.Message, d.Code)
}
