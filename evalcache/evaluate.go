package evalcache

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

//go:embed scoped.nix
var scopedNix []byte

// selfCopiedMarker is traced by scoped.nix when something forces
// self.outPath, which makes the result depend on every tracked file.
const selfCopiedMarker = "monoflake-copied-self"

// evaluation is one run of nix that produced (or failed to produce) a
// devShell derivation.
type evaluation struct {
	drvPath string
	read    []string // repository files nix read, mapped out of the store
	stderr  []byte
}

// nixString quotes s as a Nix string literal.
func nixString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `${`, `\${`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

// nixPath is an absolute path as a Nix path value, whatever characters it
// holds.
func nixPath(p string) string { return "(/. + " + nixString(p) + ")" }

// attrPath selects devShells.<system>.<shell>, quoting every name.
func attrPath(system, shell string) string {
	return ".devShells." + nixString(system) + "." + nixString(shell)
}

// scopedExpr is the --expr that evaluates a devShell in place.
func (c *Cache) scopedExpr(req Request, flakeFile string) string {
	lock := "null"
	if _, err := os.Stat(filepath.Join(req.Root, "flake.lock")); err == nil {
		lock = "builtins.readFile " + nixPath(filepath.Join(req.Root, "flake.lock"))
	}
	selfSrc := "path"
	if hasCommit(req.Root) {
		selfSrc = "git"
	}
	return fmt.Sprintf("(import %s { root = %s; flake = %s; lock = %s; selfSrc = %s; })%s",
		nixPath(c.helperPath()), nixPath(req.Root), nixPath(flakeFile), lock, nixString(selfSrc),
		attrPath(req.System, req.Shell))
}

var plainAttr = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_'-]*$`)

// flakeRef is the installable of Flake mode.
func flakeRef(req Request) string {
	quote := func(s string) string {
		if plainAttr.MatchString(s) {
			return s
		}
		return `"` + s + `"`
	}
	return req.Root + "#devShells." + quote(req.System) + "." + quote(req.Shell)
}

// installable is the arguments naming the devShell (or an attribute of it):
// a flake reference in Flake mode, the scoped expression otherwise.
func (c *Cache) installable(req Request, flakeFile, attr string) []string {
	if req.Mode == Flake {
		// Newer nix answers clean trees from its evaluation cache, which
		// would hide the files read.
		return []string{"--no-write-lock-file", "--option", "eval-cache", "false", flakeRef(req) + attr}
	}
	return []string{"--impure", "--expr", c.scopedExpr(req, flakeFile) + attr}
}

// evalDrvPath evaluates the devShell's derivation path with nix's verbose log
// on, and reads the files nix evaluated or copied from that log.
func (c *Cache) evalDrvPath(ctx context.Context, req Request, flakeFile string) (evaluation, error) {
	args := append([]string{"eval", "--raw", "-vv", "--option", "allow-import-from-derivation", strconv.FormatBool(c.ifd)},
		c.installable(req, flakeFile, ".drvPath")...)
	out, err := c.runFlake(ctx, req.Root, args...)
	ev := evaluation{drvPath: strings.TrimSpace(string(out.Stdout)), stderr: out.Stderr}
	ev.read = c.readFiles(req, out.Stderr)
	if err != nil {
		return ev, err
	}
	if !strings.HasSuffix(ev.drvPath, ".drv") {
		return ev, fmt.Errorf("nix printed %q instead of a derivation path", ev.drvPath)
	}
	return ev, nil
}

var instantiated = regexp.MustCompile(`^instantiated '(.*)' -> '(/nix/store/[^']+\.drv)'$`)

// evalAndBuild evaluates and builds in one nix process, which saves
// starting nix twice on a cold evaluation. The derivation path comes from
// the log: the shell is the last derivation instantiated, as its inputs are
// instantiated while it is. It is "" when the log does not show it (the
// caller then asks nix); the name is checked against the environment.
func (c *Cache) evalAndBuild(ctx context.Context, req Request, flakeFile, profile string) (evaluation, []byte, error) {
	if err := os.MkdirAll(filepath.Dir(profile), 0o755); err != nil {
		return evaluation{}, nil, err
	}
	args := append([]string{"print-dev-env", "--json", "-vv", "--option", "allow-import-from-derivation", strconv.FormatBool(c.ifd),
		"--profile", profile}, c.installable(req, flakeFile, "")...)
	out, err := c.runFlake(ctx, req.Root, args...)
	ev := evaluation{stderr: out.Stderr, read: c.readFiles(req, out.Stderr)}
	if err != nil {
		return ev, nil, err
	}
	env, err := ParseEnvironment(out.Stdout)
	if err != nil {
		return ev, nil, err
	}
	var name, drv string
	sc := bufio.NewScanner(bytes.NewReader(out.Stderr))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		if g := instantiated.FindStringSubmatch(sc.Text()); g != nil {
			name, drv = g[1], g[2]
		}
	}
	if drv != "" && env.Variables["name"].Value == name {
		ev.drvPath = drv
	}
	return ev, out.Stdout, nil
}

// isBuildFailure tells a failed build (worth retrying, not the fault of
// the module list) from a failed evaluation.
func isBuildFailure(stderr []byte) bool {
	return buildFailure.Match(stderr)
}

var buildFailure = regexp.MustCompile(`(?m)error: (builder for '[^']*' failed|\d+ dependenc(y|ies) of derivation .* failed to build)`)

var (
	evaluatingFile = regexp.MustCompile(`^evaluating file '(.*)'$`)
	copiedSource   = regexp.MustCompile(`^copied source '(.*)' -> '(.*)'$`)
	storeSource    = regexp.MustCompile(`^(/nix/store/[a-z0-9]{32}-[^/]+)(/.*)?$`)
)

// readFiles lists the repository files an evaluation read, from nix's -vv
// log: evaluated files and copied sources, with store paths of flake sources
// mapped back to the working tree.
func (c *Cache) readFiles(req Request, log []byte) []string {
	m := storeMapper{root: req.Root, bases: map[string]string{}, subflakes: relativePathInputs(req.Root)}
	var files []string
	selfCopied := false
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		var p string
		if g := evaluatingFile.FindStringSubmatch(line); g != nil {
			p = g[1]
		} else if g := copiedSource.FindStringSubmatch(line); g != nil {
			p = g[1]
		} else if strings.Contains(line, selfCopiedMarker) {
			selfCopied = true
			continue
		} else {
			continue
		}
		if req.Mode == Flake && len(files) == 0 && m.rootStore == "" && strings.HasSuffix(p, "/flake.nix") {
			// The first file a flake evaluation reads is the root flake.nix.
			m.rootStore = strings.TrimSuffix(p, "/flake.nix")
		}
		p, ok := m.toRepo(p)
		if !ok || isUnder(p, c.dir) && !isUnder(p, c.prunedDir()) {
			continue
		}
		files = append(files, p)
	}
	if selfCopied {
		files = append(files, trackedFiles(req.Root)...)
	}
	return files
}

// storeMapper maps store paths of flake sources back to the working tree.
type storeMapper struct {
	root      string
	rootStore string            // store path of the root flake's source (Flake mode)
	bases     map[string]string // store source path -> working tree directory
	subflakes []string          // relative path: inputs of flake.lock, as directories
}

func (m *storeMapper) toRepo(p string) (string, bool) {
	g := storeSource.FindStringSubmatch(p)
	if g == nil {
		return p, true
	}
	base, rest := g[1], g[2]
	if m.rootStore != "" && isUnder(p, m.rootStore) {
		return m.root + strings.TrimPrefix(p, m.rootStore), true
	}
	if dir, ok := m.bases[base]; ok {
		return dir + rest, dir != ""
	}
	// A sub-flake's source: find the working tree directory holding the
	// same file. The first file nix reads of a source decides for all of
	// it, so inputs such as nixpkgs cost one look each, not one per file.
	m.bases[base] = ""
	for _, dir := range m.subflakes {
		candidate := dir + rest
		if rest != "" && sameContent(p, candidate) {
			m.bases[base] = dir
			return candidate, true
		}
	}
	return "", false // an immutable store path: a locked input
}

func sameContent(a, b string) bool {
	ia, err := os.Stat(a)
	if err != nil {
		return false
	}
	if ib, err := os.Stat(b); err != nil || ia.Size() != ib.Size() || ia.IsDir() || ib.IsDir() {
		return false
	}
	x, err := os.ReadFile(a)
	if err != nil {
		return false
	}
	y, err := os.ReadFile(b)
	return err == nil && bytes.Equal(x, y)
}

// relativePathInputs lists the working-tree directories of flake.lock's
// relative path: inputs.
func relativePathInputs(root string) []string {
	data, err := os.ReadFile(filepath.Join(root, "flake.lock"))
	if err != nil {
		return nil
	}
	var lock struct {
		Nodes map[string]struct {
			Locked struct {
				Type string `json:"type"`
				Path string `json:"path"`
			} `json:"locked"`
		} `json:"nodes"`
	}
	if json.Unmarshal(data, &lock) != nil {
		return nil
	}
	var dirs []string
	for _, n := range lock.Nodes {
		if n.Locked.Type == "path" && n.Locked.Path != "" && !filepath.IsAbs(n.Locked.Path) {
			dirs = append(dirs, filepath.Join(root, n.Locked.Path))
		}
	}
	return dirs
}

// trackedFiles lists git's tracked files under root and git's index, which
// changes when a file is added or removed.
func trackedFiles(root string) []string {
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		return []string{root}
	}
	files := []string{filepath.Join(gitDir(root), "index")}
	for _, f := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		if f != "" {
			files = append(files, filepath.Join(root, f))
		}
	}
	return files
}

// gitDir finds the .git directory of the work tree holding dir ("" if none).
func gitDir(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if info, err := os.Stat(filepath.Join(d, ".git")); err == nil && info.IsDir() {
			return filepath.Join(d, ".git")
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// hasCommit reports whether root is in a git work tree whose HEAD names a
// commit; builtins.fetchGit needs one, so without it self is copied with
// every file, as for a plain directory.
func hasCommit(root string) bool {
	g := gitDir(root)
	if g == "" {
		return false
	}
	head, err := os.ReadFile(filepath.Join(g, "HEAD"))
	if err != nil {
		return false
	}
	ref, ok := strings.CutPrefix(strings.TrimSpace(string(head)), "ref: ")
	if !ok {
		return true // detached HEAD: a commit id
	}
	if _, err := os.Stat(filepath.Join(g, ref)); err == nil {
		return true
	}
	packed, err := os.ReadFile(filepath.Join(g, "packed-refs"))
	return err == nil && bytes.Contains(packed, []byte(" "+ref+"\n"))
}

// buildEnv builds the devShell's environment from its derivation, keeping
// the result alive with a profile (a GC root), as nix-direnv does.
func (c *Cache) buildEnv(ctx context.Context, req Request, drvPath, profile string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(profile), 0o755); err != nil {
		return nil, err
	}
	out, err := c.run.run(ctx, req.Root, "print-dev-env", "--json", "--profile", profile, drvPath)
	if err != nil {
		return out.Stderr, err
	}
	return out.Stdout, nil
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
