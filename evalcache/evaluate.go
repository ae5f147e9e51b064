package evalcache

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The nix invocations of an evaluation. Each reads nix's verbose log for
// the files it read (see nixlog.go).

//go:embed scoped.nix
var scopedNix []byte

// evaluation is one run of nix that produced (or failed to produce) a
// devShell derivation.
type evaluation struct {
	drvPath string
	read    []string // repository files nix read, mapped out of the store
	stderr  []byte
	envJSON []byte // the environment, when the same nix built it
	built   bool   // the failure is the build's, not the evaluation's
}

// evalDrvPath evaluates the devShell's derivation path with nix's verbose log
// on, and reads the files nix evaluated or copied from that log.
func (c *Cache) evalDrvPath(ctx context.Context, req Request, flakeFile string) (evaluation, error) {
	args := append([]string{"eval", "--raw", "-vv", "--option", "allow-import-from-derivation", strconv.FormatBool(c.ifd)},
		c.installable(ctx, req, flakeFile, ".drvPath")...)
	out, err := c.runFlake(ctx, req.Root, args...)
	ev := evaluation{drvPath: strings.TrimSpace(string(out.Stdout)), stderr: out.Stderr}
	ev.read = c.readFiles(ctx, req, out.Stderr)
	if err != nil {
		return ev, err
	}
	if !strings.HasSuffix(ev.drvPath, ".drv") {
		return ev, fmt.Errorf("nix printed %q instead of a derivation path", ev.drvPath)
	}
	return ev, nil
}

// evalAndBuild evaluates and builds in one nix process, which saves
// starting nix twice on a cold evaluation. The derivation path comes from
// the log (see lastInstantiated), checked against the environment's name;
// it is "" when the log does not show it, and the caller then asks nix.
func (c *Cache) evalAndBuild(ctx context.Context, req Request, flakeFile, profile string) (evaluation, error) {
	if err := os.MkdirAll(filepath.Dir(profile), 0o755); err != nil {
		return evaluation{}, err
	}
	args := append([]string{"print-dev-env", "--json", "-vv", "--option", "allow-import-from-derivation", strconv.FormatBool(c.ifd),
		"--profile", profile}, c.installable(ctx, req, flakeFile, "")...)
	out, err := c.runFlake(ctx, req.Root, args...)
	ev := evaluation{stderr: out.Stderr, read: c.readFiles(ctx, req, out.Stderr)}
	if err != nil {
		return ev, err
	}
	env, err := ParseEnvironment(out.Stdout)
	if err != nil {
		return ev, err
	}
	if name, drv := lastInstantiated(out.Stderr); drv != "" && env.Variables["name"].Value == name {
		ev.drvPath = drv
	}
	ev.envJSON = out.Stdout
	return ev, nil
}

// buildEnv builds the devShell's environment from its derivation, keeping
// the result alive with a profile (a GC root), as nix-direnv does.
func (c *Cache) buildEnv(ctx context.Context, req Request, drvPath, profile string) ([]byte, []byte, error) {
	if err := os.MkdirAll(filepath.Dir(profile), 0o755); err != nil {
		return nil, nil, err
	}
	out, err := c.run.run(ctx, req.Root, "print-dev-env", "--json", "--profile", profile, drvPath)
	return out.Stdout, out.Stderr, err
}

// shellNames lists the devShells the flake defines (for system "") or the
// shells it defines for system, for an error that says what exists.
func (c *Cache) shellNames(ctx context.Context, req Request, flakeFile, system string) ([]string, error) {
	args := append([]string{"eval", "--json"}, c.namesExpr(ctx, req, flakeFile, system)...)
	out, err := c.run.run(ctx, req.Root, args...)
	if err != nil {
		return nil, err
	}
	var names []string
	if err := json.Unmarshal(out.Stdout, &names); err != nil {
		return nil, err
	}
	return names, nil
}

// pruneGenerations removes a profile's older generations: each evaluation
// of an entry adds one, and only the current one must stay a GC root.
func pruneGenerations(profile string) {
	current, err := os.Readlink(profile)
	if err != nil {
		return
	}
	links, _ := filepath.Glob(profile + "-*-link")
	for _, l := range links {
		if filepath.Base(l) != filepath.Base(current) {
			os.Remove(l)
		}
	}
}
