package evalcache

import (
	"fmt"
	"os"
	"path/filepath"
)

// Evaluating a flake runs code from the repository, so nothing is evaluated
// in a repository the user has not trusted in one of three ways: `monoflake
// trust DIR` (DIR or a parent), direnv's allow list for the root's or the
// component's .envrc, or the caller vouching for it (Request.Trusted, for
// the editor's workspace trust). There is deliberately no switch that trusts
// everything.
//
// Trust is kept by path, as an editor's workspace trust is: it covers
// whatever is at that path and below it now and later (a branch checked
// out, a repository cloned in its place), not the content seen when it was
// given. So only a folder holding a flake.nix can be trusted: trusting a
// home folder would silently trust every repository below it.

func (c *Cache) trustPath(dir string) string {
	return filepath.Join(c.dataDir, "trusted", hashStrings(dir))
}

// Trusted reports whether root, or a folder holding it, was trusted with
// Trust, or direnv allows root's .envrc.
func (c *Cache) Trusted(root string) bool {
	root, err := filepath.Abs(root)
	if err != nil {
		return false
	}
	for dir := root; ; dir = filepath.Dir(dir) {
		if exists(c.trustPath(dir)) {
			return true
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	return c.direnvAllowed(root)
}

// TrustedFor reports whether the cache may evaluate req: the request
// vouches for itself (an editor's workspace trust), the repository is
// trusted, or direnv allows the component's own .envrc. Every caller asks
// here, so the command line, direnv and the server agree.
func (c *Cache) TrustedFor(req Request) bool {
	if req.Trusted || c.Trusted(req.Root) {
		return true
	}
	return req.ComponentDir != "" && req.ComponentDir != req.Root && c.direnvAllowed(req.ComponentDir)
}

// direnvAllowed reports whether direnv allows dir/.envrc as it is now:
// direnv names its allow file after the .envrc's path and content.
func (c *Cache) direnvAllowed(dir string) bool {
	envrc := filepath.Join(dir, ".envrc")
	content, err := os.ReadFile(envrc)
	if err != nil {
		return false
	}
	data := xdgDataHome(c.getenv)
	if data == "" {
		return false
	}
	return exists(filepath.Join(data, "direnv", "allow", hashHex(envrc+"\n"+string(content))))
}

// Trust allows evaluating the repository at root and everything below it.
// root must hold a flake.nix.
func (c *Cache) Trust(root string) error {
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	if info, err := os.Stat(filepath.Join(root, "flake.nix")); err != nil || info.IsDir() {
		return fmt.Errorf("%s holds no flake.nix, and trust covers every folder below the one trusted: trust the folder of the repository's flake.nix instead", root)
	}
	if err := writeAtomic(c.trustPath(root), []byte(root+"\n")); err != nil {
		return fmt.Errorf("record trust in %s: %w", root, err)
	}
	return nil
}

// Revoke withdraws Trust for root. It does not change direnv's allow list.
func (c *Cache) Revoke(root string) error {
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	if err := os.Remove(c.trustPath(root)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("revoke trust in %s: %w", root, err)
	}
	return nil
}
