package genrepo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"
)

// The real flake-parts and nixpkgs lib as the flake's inputs, instead of the
// fixture's look-alike. They are copied out of Options.NixLibs into
// Options.InputsDir, outside the repository, the way a user's flake takes
// them from elsewhere: flake-parts as a git+file: input (a git repository of
// one commit) and nixpkgs lib as a path: input that flake-parts follows.
// Both kinds of local input are what a lock file holds for libraries kept
// beside a monorepo, and scoped evaluation fetches them differently.

// The folders of Options.NixLibs that are copied.
const (
	flakePartsDir = "flake-parts"
	nixpkgsLibDir = "nixpkgs-lib"
)

// NixLibsVariable names the environment variable that says where the real
// Nix libraries are when they are not in ../shared/nixlibs beside the
// monoflake module.
const NixLibsVariable = "MONOFLAKE_NIXLIBS"

// lookAlike is the fixture's stand-in for flake-parts, which a repository
// using the real one does not need.
const lookAlike = "nix/lib/flake-parts.nix"

// flakeInputs are the URLs the generated flake.nix locks.
type flakeInputs struct {
	FlakeParts string
	NixpkgsLib string
}

// FindNixLibs returns the folder holding the real flake-parts and nixpkgs
// lib: $MONOFLAKE_NIXLIBS when set, else ../shared/nixlibs beside the
// monoflake module around the working directory. The error says what was
// looked for, so a benchmark can skip with it.
func FindNixLibs() (string, error) {
	dir := os.Getenv(NixLibsVariable)
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "..", "shared", "nixlibs")
	}
	for _, lib := range []string{flakePartsDir, nixpkgsLibDir} {
		if _, err := os.Stat(filepath.Join(dir, lib, "flake.nix")); err != nil {
			return "", fmt.Errorf("the real %s is not in %s (set %s to a folder holding %s and %s)", lib, dir, NixLibsVariable, flakePartsDir, nixpkgsLibDir)
		}
	}
	return filepath.Abs(dir)
}

// copyInputs copies the libraries into a new inputs folder, makes the
// flake-parts copy a git repository, and returns the inputs' URLs and the
// flake.lock that pins them.
func copyInputs(ctx context.Context, libs, dir string) (flakeInputs, []byte, error) {
	if dir == "" {
		return flakeInputs{}, nil, errors.New("the real Nix libraries need a folder to be copied into (Options.InputsDir, or -inputs)")
	}
	if strings.ContainsAny(dir, "\"\\$") {
		return flakeInputs{}, nil, fmt.Errorf("%s cannot be written in a Nix string; copy the libraries elsewhere", dir)
	}
	root, err := prepareRoot(dir)
	if err != nil {
		return flakeInputs{}, nil, err
	}
	for _, lib := range []string{flakePartsDir, nixpkgsLibDir} {
		if err := copyTree(filepath.Join(libs, lib), filepath.Join(root, lib)); err != nil {
			return flakeInputs{}, nil, err
		}
	}
	if err := commitAll(ctx, filepath.Join(root, flakePartsDir)); err != nil {
		return flakeInputs{}, nil, err
	}
	in := flakeInputs{
		FlakeParts: "git+file://" + filepath.Join(root, flakePartsDir),
		NixpkgsLib: "path:" + filepath.Join(root, nixpkgsLibDir),
	}
	lock, err := lockInputs(ctx, root, in)
	return in, lock, err
}

// copyTree copies a folder's files, leaving out git's own folder. Every
// file gets the generated commit's date as its time: a path: input is
// locked with the newest time of its files, so the lock file depends on
// the content alone.
func copyTree(src, dst string) error {
	date, err := time.Parse(time.RFC3339, commitDate)
	if err != nil {
		return err
	}
	var dirs []string
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case d.IsDir():
			dirs = append(dirs, target)
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			return fmt.Errorf("%s is not a regular file", path)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		// The sources may be read-only; the copy must be removable.
		mode := os.FileMode(0o644)
		if info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, data, mode); err != nil {
			return err
		}
		return os.Chtimes(target, date, date)
	})
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	for _, d := range dirs {
		if err := os.Chtimes(d, date, date); err != nil {
			return fmt.Errorf("copy %s: %w", src, err)
		}
	}
	return nil
}

// lockInputs has nix lock the inputs in a flake of its own that holds
// nothing else, so locking costs the same at any size and copies nothing
// of the repository into the store. The lock file of a flake holds only
// its inputs, so the repository can use it as it is.
func lockInputs(ctx context.Context, dir string, in flakeInputs) ([]byte, error) {
	tmpl, err := template.ParseFS(templateFiles, "templates/*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse the file templates: %w", err)
	}
	lockDir := filepath.Join(dir, "lock")
	if err := os.Mkdir(lockDir, 0o755); err != nil {
		return nil, err
	}
	defer os.RemoveAll(lockDir)
	f, err := os.Create(filepath.Join(lockDir, "flake.nix"))
	if err != nil {
		return nil, err
	}
	err = tmpl.ExecuteTemplate(f, "lock-flake.nix.tmpl", in)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write the flake that locks the inputs: %w", err)
	}
	if err := run(ctx, lockDir, nil, "nix flake lock", "nix", "--extra-experimental-features", "nix-command flakes", "flake", "lock"); err != nil {
		return nil, fmt.Errorf("lock the real Nix libraries (generating with them needs nix): %w", err)
	}
	lock, err := os.ReadFile(filepath.Join(lockDir, "flake.lock"))
	if err != nil {
		return nil, fmt.Errorf("read the lock of the inputs: %w", err)
	}
	return lock, nil
}

// withRealLibraries is the fixture's libraries without the flake-parts
// look-alike and its empty lock file, plus the lock of the real inputs.
func withRealLibraries(libs []library, lock []byte) []library {
	var out []library
	for _, l := range libs {
		if l.path != lookAlike && l.path != fixtureLockFile {
			out = append(out, l)
		}
	}
	return append(out, library{path: fixtureLockFile, data: lock})
}
