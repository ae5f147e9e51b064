// Package genrepo writes synthetic Nix flake monorepos for benchmarks.
//
// A generated repository has the shape of the bundled fixture
// testdata/monorepo: a top-level flake.nix whose mkFlake imports name
// ./nix/pkgs.nix and every component's ./cNNNN/nix/outputs.nix, the fixture's
// in-repo Nix libraries (copied from its nix/ folder when generating, so the
// two never drift apart), and per component three Nix files that reference a
// few lower-numbered components. With Options.NixLibs the flake uses the real
// flake-parts and nixpkgs lib as inputs instead of the fixture's look-alike.
// Everything is a function of Options: the same options give byte-identical
// trees and, with Git, the same commit.
//
// Generated repositories are for benchmarks and tests; they are never
// committed.
package genrepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultDependencies is how many components one component references at most
// when Options.Dependencies is zero.
const DefaultDependencies = 3

// Options say what to generate.
type Options struct {
	// Components is how many components to generate, named c0000, c0001, and
	// so on (wider numbers past 10,000 components). It must be at least one.
	Components int
	// Dependencies is the most lower-numbered components one component
	// references; each component draws between none and this many. Zero means
	// DefaultDependencies and a negative number means no references at all.
	Dependencies int
	// Seed makes a different but equally deterministic repository.
	Seed int64
	// NonNixFiles is how many extra files that are not Nix (sources, docs,
	// JSON) are spread over the components, for walking benchmarks.
	NonNixFiles int
	// BlobBytes, when positive, is the size of one large binary file written
	// at BlobPath, for benchmarks of evaluations that copy the tree.
	BlobBytes int64
	// Git makes the repository a git work tree with everything committed in a
	// single commit by a fixed author at a fixed date.
	Git bool
	// Fixture is the fixture monorepo whose nix/ folder is copied. Empty means
	// testdata/monorepo of the monoflake module that holds the working
	// directory, which is what tests and benchmarks anywhere in the module get.
	Fixture string
	// NixLibs, when set, is a folder holding the real flake-parts and
	// nixpkgs lib (folders flake-parts and nixpkgs-lib, as FindNixLibs
	// finds them). The flake then takes them as inputs in place of the
	// fixture's look-alike, copied into InputsDir and locked by nix, so
	// generating needs nix.
	NixLibs string
	// InputsDir is the folder, empty or new and outside the repository,
	// that the libraries of NixLibs are copied into.
	InputsDir string
}

// BlobPath is where the large binary file of Options.BlobBytes is written,
// relative to the repository root.
const BlobPath = "assets/blob.bin"

// Repo describes a generated repository.
type Repo struct {
	// Root is the absolute path of the repository.
	Root string
	// Components are in name order, which is also dependency order: a
	// component only references components before it.
	Components []Component
	// NixFiles and NonNixFiles count the files written of each kind,
	// including the copied fixture libraries and flake.nix.
	NixFiles    int
	NonNixFiles int
	// Blob is the path of the large binary file relative to Root, or empty.
	Blob string
}

// Component is one generated component.
type Component struct {
	// Name is both the component's folder and the name of its outputs
	// (packages.NAME, devShells.NAME, ...).
	Name string
	// Dependencies are the names of the components this one references
	// through self'.packages or self'.devShells, in name order.
	Dependencies []string
	// Outputs are the flake outputs the component defines, as "packages",
	// "devShells", "apps" or "checks"; each is an attribute named Name.
	Outputs []string
}

// componentFiles are the Nix files of every component, in its nix/ folder.
func componentFiles() []string { return []string{"outputs.nix", "package.nix", "shell.nix"} }

// Files returns the component's Nix files relative to the repository root,
// slash-separated, its outputs.nix (the one flake.nix imports) first.
func (c Component) Files() []string {
	files := componentFiles()
	for i, f := range files {
		files[i] = c.Name + "/nix/" + f
	}
	return files
}

// Component returns the component of that name.
func (r *Repo) Component(name string) (Component, bool) {
	for _, c := range r.Components {
		if c.Name == name {
			return c, true
		}
	}
	return Component{}, false
}

// WithDependencies returns the components that reference exactly n others,
// so a benchmark can pick, say, one with a single dependency.
func (r *Repo) WithDependencies(n int) []Component {
	var out []Component
	for _, c := range r.Components {
		if len(c.Dependencies) == n {
			out = append(out, c)
		}
	}
	return out
}

// Generate writes a repository into dir, which must be empty or not exist.
func Generate(dir string, opt Options) (*Repo, error) {
	return GenerateContext(context.Background(), dir, opt)
}

// GenerateContext is Generate with a context that can stop the file writing
// and the git commands.
func GenerateContext(ctx context.Context, dir string, opt Options) (*Repo, error) {
	if opt.Components < 1 {
		return nil, errors.New("a repository needs at least one component")
	}
	root, err := prepareRoot(dir)
	if err != nil {
		return nil, err
	}
	libs, err := readFixtureLibraries(opt.Fixture)
	if err != nil {
		return nil, err
	}
	var in *flakeInputs
	if opt.NixLibs != "" {
		if inside(opt.InputsDir, root) {
			return nil, fmt.Errorf("the libraries' folder %s is inside the repository; copy them elsewhere", opt.InputsDir)
		}
		inputs, lock, err := copyInputs(ctx, opt.NixLibs, opt.InputsDir)
		if err != nil {
			return nil, err
		}
		in, libs = &inputs, withRealLibraries(libs, lock)
	}
	p := newPlan(opt)
	repo, err := write(ctx, root, p, libs, in)
	if err != nil {
		return nil, err
	}
	if opt.Git {
		if err := commitAll(ctx, root); err != nil {
			return nil, err
		}
	}
	return repo, nil
}

// inside reports whether path is root or below it.
func inside(path, root string) bool {
	abs, err := filepath.Abs(path)
	if err != nil || path == "" {
		return false
	}
	rel, err := filepath.Rel(root, abs)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// prepareRoot makes dir absolute and refuses to write over existing files, so
// a wrong path can never mix generated files into a real tree.
func prepareRoot(dir string) (string, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", dir, err)
	}
	entries, err := os.ReadDir(root)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(root, 0o755); err != nil {
			return "", fmt.Errorf("create %s: %w", root, err)
		}
	case err != nil:
		return "", fmt.Errorf("read %s: %w", root, err)
	case len(entries) > 0:
		return "", fmt.Errorf("%s is not empty; generate into a new folder", root)
	}
	return root, nil
}
