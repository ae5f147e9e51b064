package genrepo

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// modulePath is the module whose testdata holds the default fixture.
const modulePath = "github.com/monoflake/monoflake"

// fixtureLibraryDir is the fixture's folder of in-repo Nix libraries; it is
// copied whole, under the same name, into every generated repository, and so
// is its lock file, which keeps nix from writing one on first use.
const (
	fixtureLibraryDir = "nix"
	fixtureLockFile   = "flake.lock"
)

// library is one file copied from the fixture.
type library struct {
	path string // slash-separated, relative to the repository root
	data []byte
}

// readFixtureLibraries reads every file of the fixture's nix/ folder and its
// flake.lock. The
// fixture is the one place those libraries are written, so generated
// repositories evaluate exactly like it does.
func readFixtureLibraries(fixture string) ([]library, error) {
	if fixture == "" {
		var err error
		if fixture, err = defaultFixture(); err != nil {
			return nil, err
		}
	}
	dir := filepath.Join(fixture, fixtureLibraryDir)
	var libs []library
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(fixture, path)
		if err != nil {
			return err
		}
		libs = append(libs, library{path: filepath.ToSlash(rel), data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the fixture's Nix libraries in %s: %w", dir, err)
	}
	if len(libs) == 0 {
		return nil, fmt.Errorf("the fixture folder %s holds no Nix libraries", dir)
	}
	lock, err := os.ReadFile(filepath.Join(fixture, fixtureLockFile))
	if err != nil {
		return nil, fmt.Errorf("read the fixture's lock file: %w", err)
	}
	return append(libs, library{path: fixtureLockFile, data: lock}), nil
}

// defaultFixture is testdata/monorepo of the monoflake module.
func defaultFixture() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", fmt.Errorf("%w, so the fixture monorepo must be given (Options.Fixture, or -fixture)", err)
	}
	return filepath.Join(root, "testdata", "monorepo"), nil
}

// moduleRoot finds the monoflake module root by walking up from the working
// directory, which is where `go test` puts every package's tests and where
// the command is normally run.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the working directory: %w", err)
	}
	for {
		if isModuleRoot(dir) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("the working directory is not inside the monoflake module")
		}
		dir = parent
	}
}

// isModuleRoot reports whether dir holds the go.mod of the monoflake module.
func isModuleRoot(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if mod, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "module "); ok {
			return strings.TrimSpace(mod) == modulePath
		}
	}
	return false
}
