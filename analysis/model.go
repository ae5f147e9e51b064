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

	flake  int      // the flake whose output it is
	perSys bool     // a per-system output (packages.x), not a flake-level one
	module moduleID // the module defining it (index -1: the flake.nix outputs)
	// isCategory marks the definition of a category itself (a custom
	// output such as flake.lib), with no name.
	isCategory bool
	// maybe marks a definition that may not exist: conditional, or in a
	// module that may not be imported.
	maybe bool
	// listed marks a name given as a string (genAttrs [ "x" ]), which a
	// rename cannot edit as an attribute.
	listed bool
	// derived marks an output a module of an input makes from a setting
	// (process-compose.<name>): modules setting the same name merge into
	// one setting, so two of them are no conflict, and a rename of the
	// output is a rename of the setting.
	derived bool
	// setting marks what a component sets that is not a flake output: a
	// flake-parts option (clan.modules.x), a package of a package set.
	// Settings are listed with the component's outputs and never resolve
	// references.
	setting bool
	// partition is the flake-parts partition defining it.
	partition string
}

// Key returns "category.name", how users write an output.
func (o *Output) Key() string { return o.Category + "." + o.Name }

// Component is a directory of the repository that contributes flake outputs.
type Component struct {
	Name     string
	Dir      string   // absolute
	Modules  []string // module files imported into the flake (absolute), or the sub-flake's flake.nix
	Files    []string // every Nix file that belongs to the component, sorted
	Outputs  []*Output
	Deps     []string // names of components whose outputs this one references, sorted
	SubFlake bool
	// packageOf are the attribute names under which a package set calls
	// the component's package file (callPackage).
	packageOf []string
	settings  []*Output
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
	CodeUntrackedPath   = "untracked-path"
	CodeIgnoredPath     = "ignored-path"
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
