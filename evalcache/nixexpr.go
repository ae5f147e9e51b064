package evalcache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/monoflake/monoflake/analysis/syntax"
)

// This file is the one place in evalcache that writes Nix expressions:
// attribute paths and the expressions built from names and paths, which
// are quoted by the syntax package (the one place that writes Nix
// literals, for the model's pruned flakes too).

func nixString(s string) string { return syntax.QuoteString(s) }

func nixPath(p string) string { return syntax.PathExpr(p) }

// attrPath selects devShells.<system>.<shell>, quoting every name.
func attrPath(system, shell string) string {
	return ".devShells." + nixString(system) + "." + nixString(shell)
}

var plainAttr = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_'-]*$`)

// flakeAttr quotes one name of a flake reference's attribute path
// (`.#devShells."x.y"`). That syntax is not a Nix expression: quotes group
// a name holding dots, and nothing is escaped.
func flakeAttr(s string) string {
	if plainAttr.MatchString(s) {
		return s
	}
	return `"` + s + `"`
}

// flakeRef is the installable of Flake mode.
func flakeRef(req Request) string {
	return req.Root + "#devShells." + flakeAttr(req.System) + "." + flakeAttr(req.Shell)
}

// scopedExpr is the --expr that evaluates the flake's outputs in place
// (see scoped.nix); attr selects from it.
func (c *Cache) scopedExpr(ctx context.Context, req Request, flakeFile, attr string) string {
	lock := "null"
	if _, err := os.Stat(filepath.Join(req.Root, "flake.lock")); err == nil {
		lock = "builtins.readFile " + nixPath(filepath.Join(req.Root, "flake.lock"))
	}
	return fmt.Sprintf("(import %s { root = %s; flake = %s; lock = %s; selfSrc = %s; })%s",
		nixPath(c.helperPath()), nixPath(req.Root), nixPath(flakeFile), lock, nixString(selfSource(ctx, req.Root)), attr)
}

// selfSource is how scoped.nix reads self's source: with
// builtins.fetchGit in a repository with a commit, as nix copies a work
// tree, else the folder as it is.
func selfSource(ctx context.Context, root string) string {
	if hasCommit(ctx, root) {
		return "git"
	}
	return "path"
}

// installable is the arguments naming the devShell (or an attribute of it):
// a flake reference in Flake mode, the scoped expression otherwise.
func (c *Cache) installable(ctx context.Context, req Request, flakeFile, attr string) []string {
	if req.Mode == Flake {
		// Newer nix answers clean trees from its evaluation cache, which
		// would hide the files read.
		return []string{"--no-write-lock-file", "--option", "eval-cache", "false", flakeRef(req) + attr}
	}
	return []string{"--impure", "--expr", c.scopedExpr(ctx, req, flakeFile, attrPath(req.System, req.Shell)+attr)}
}

// namesExpr lists the attribute names of devShells (system "") or of
// devShells.<system>, for an error that says which shells exist.
func (c *Cache) namesExpr(ctx context.Context, req Request, flakeFile, system string) []string {
	if req.Mode == Flake {
		attr := "#devShells"
		if system != "" {
			attr += "." + flakeAttr(system)
		}
		return []string{"--no-write-lock-file", "--option", "eval-cache", "false", req.Root + attr, "--apply", "builtins.attrNames"}
	}
	attr := ".devShells"
	if system != "" {
		attr += "." + nixString(system)
	}
	return []string{"--impure", "--expr", "builtins.attrNames " + c.scopedExpr(ctx, req, flakeFile, attr)}
}
