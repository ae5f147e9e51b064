// Command fetchgrammar copies the generated C sources of the Nix tree-sitter
// grammar into analysis/syntax/nixgrammar/src, where cgo compiles them.
//
// The grammar module ships no Go files, so it cannot be an ordinary module
// dependency; instead it is fetched through the Go tooling (which checks the
// checksum database) and its module hash is compared with the one pinned here
// before any file is copied. The destination folder is git-ignored: the
// grammar's files are never committed.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

const (
	grammarModule  = "github.com/nix-community/tree-sitter-nix"
	grammarVersion = "v0.3.0"
	// grammarSum is the module hash `go mod download -json` reports for the
	// pinned version; a different hash means a different grammar.
	grammarSum = "h1:J9PXu/iAN7GhVbQCGb7Eat1u6OAHFJxZktdNa4T96wM="
)

// grammarFiles are the files cgo needs, relative to the module's src folder.
var grammarFiles = []string{"parser.c", "scanner.c", "tree_sitter/parser.h"}

// runtimeModule provides tree_sitter/api.h, which the flattening code in
// nixgrammar compiles against; its version is the one go.mod requires, so the
// header always matches the runtime that is linked in.
const runtimeModule = "github.com/tree-sitter/go-tree-sitter"

func main() {
	dest := flag.String("dest", "analysis/syntax/nixgrammar/src", "folder to copy the grammar's C sources into")
	flag.Parse()
	if err := fetch(*dest, grammarSum); err != nil {
		fmt.Fprintf(os.Stderr, "fetchgrammar: %v\n", err)
		os.Exit(1)
	}
}

// moduleInfo is what `go mod download -json` prints of a module.
type moduleInfo struct {
	Dir   string
	Sum   string
	Error string
}

// fetch downloads the grammar module, refuses it unless its hash is
// wantSum, and copies its sources into dest.
func fetch(dest, wantSum string) error {
	d, err := download(grammarModule + "@" + grammarVersion)
	if err != nil {
		return err
	}
	if d.Sum != wantSum {
		return fmt.Errorf("%s@%s has module hash %s, want %s; refusing to use it", grammarModule, grammarVersion, d.Sum, wantSum)
	}
	// The runtime's header must match the runtime go.mod links in, so it is
	// downloaded at the version go.mod requires (go mod download without a
	// version uses the main module's requirement and checks go.sum). A
	// plain `go list -m` reports no Dir until the module is in the module
	// cache, which a new machine's is not.
	rt, err := download(runtimeModule)
	if err != nil {
		return err
	}
	for _, name := range grammarFiles {
		if err := copyFile(filepath.Join(d.Dir, "src", name), filepath.Join(dest, name)); err != nil {
			return err
		}
	}
	return copyFile(filepath.Join(rt.Dir, "include", "tree_sitter", "api.h"), filepath.Join(dest, "tree_sitter", "api.h"))
}

// download fetches one module into the module cache through the Go
// tooling, which verifies it against go.sum or the checksum database, and
// reports where it is.
func download(module string) (moduleInfo, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var d moduleInfo
	if err := json.Unmarshal(stdout.Bytes(), &d); err != nil {
		return d, fmt.Errorf("go mod download %s failed: %v %s", module, runErr, bytes.TrimSpace(stderr.Bytes()))
	}
	if d.Error != "" {
		return d, fmt.Errorf("cannot download %s: %s", module, d.Error)
	}
	if d.Dir == "" {
		return d, fmt.Errorf("go mod download %s reported no folder for the module", module)
	}
	return d, nil
}

// copyFile writes through a temporary file and a rename so that an
// interrupted copy never leaves a truncated source for cgo to choke on.
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("open grammar file: %w", err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return fmt.Errorf("create grammar folder: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(to), ".fetch-*")
	if err != nil {
		return fmt.Errorf("create grammar file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return fmt.Errorf("copy %s: %w", from, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", to, err)
	}
	// Files in the module cache are read-only; make the copy writable so a
	// later fetch can replace it.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("chmod %s: %w", to, err)
	}
	return os.Rename(tmp.Name(), to)
}
