package evalcache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// minNixVersion is the oldest nix whose print-dev-env --json output and
// flake lock format this package understands.
const minNixVersion = "2.8.0"

// experimental is passed on every call: flakes are experimental up to current
// Nix, and users should not need to enable them for monoflake to work.
var experimental = []string{"--extra-experimental-features", "nix-command flakes"}

// ErrNixMissing reports that no usable nix binary was found.
var ErrNixMissing = errors.New("nix was not found on PATH; install Nix 2.8 or newer to evaluate devShells (static features keep working)")

// runner starts nix processes. Each runs in its own process group so that
// cancelling the context kills nix and every builder it forked, and nothing
// is left behind as a zombie.
type runner struct {
	nix     string
	timeout time.Duration
}

// nixOutput is what one nix invocation printed.
type nixOutput struct {
	Stdout []byte
	Stderr []byte
}

// versionTimeout bounds `nix --version`, which answers in milliseconds
// unless something is badly wrong.
const versionTimeout = 10 * time.Second

// groupCommand runs nix in a process group of its own, killed whole when
// ctx ends, so no builder or helper it started outlives a cancellation. The
// kernel kills it when monoflake dies, even by SIGKILL (nix in turn has
// its builders die with it). The parent-death signal is tied to the thread
// that started the child; Go keeps its threads for the life of the process
// unless a goroutine exits locked to one, which nothing here does.
func groupCommand(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error {
		// The negative pid addresses the whole process group.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func (r runner) run(ctx context.Context, dir string, args ...string) (nixOutput, error) {
	return r.runTool(ctx, r.nix, dir, nil, args...)
}

// store runs nix-store, the one tool `nix` has no subcommand for
// (importing an export stream), with stdin as its input. It is the
// nix-store next to the nix binary, as every Nix installs them, else the
// one on PATH.
func (r runner) store(ctx context.Context, stdin []byte, args ...string) (nixOutput, error) {
	tool := "nix-store"
	if nix, err := exec.LookPath(r.nix); err == nil {
		if sibling := filepath.Join(filepath.Dir(nix), "nix-store"); exists(sibling) {
			tool = sibling
		}
	}
	return r.runTool(ctx, tool, "", stdin, args...)
}

func (r runner) runTool(ctx context.Context, tool, dir string, stdin []byte, args ...string) (nixOutput, error) {
	if r.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.timeout)
		defer cancel()
	}
	cmd := groupCommand(ctx, tool, append(append([]string{}, experimental...), args...)...)
	cmd.Dir = dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	out := nixOutput{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return out, fmt.Errorf("%s %s: %w", filepath.Base(tool), strings.Join(args, " "), ctxErr)
		}
		if errors.Is(err, exec.ErrNotFound) {
			return out, ErrNixMissing
		}
		return out, fmt.Errorf("%s %s: %w", filepath.Base(tool), strings.Join(args, " "), err)
	}
	return out, nil
}

var versionPattern = regexp.MustCompile(`(\d+)\.(\d+)(?:\.(\d+))?`)

// NixVersion returns the version of the given nix binary ("" means nix on
// PATH), such as "2.8.0", or an error that says in one sentence why nix
// cannot be used: missing, unrunnable or older than 2.8.
func NixVersion(ctx context.Context, nix string) (string, error) {
	return nixVersion(ctx, nix, versionTimeout)
}

func nixVersion(ctx context.Context, nix string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if nix == "" {
		nix = "nix"
	}
	path, err := exec.LookPath(nix)
	if err != nil {
		return "", ErrNixMissing
	}
	out, err := groupCommand(ctx, path, "--version").Output()
	switch {
	case err == nil:
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "", fmt.Errorf("%s --version did not answer within %s, so devShells cannot be evaluated", path, timeout)
	case ctx.Err() != nil:
		return "", fmt.Errorf("%s --version: %w", path, ctx.Err())
	default:
		return "", fmt.Errorf("running %s --version failed, so devShells cannot be evaluated: %w", path, err)
	}
	version := versionPattern.FindString(string(out))
	if version == "" {
		return "", fmt.Errorf("cannot read the version of nix from %q", strings.TrimSpace(string(out)))
	}
	if compareVersions(version, minNixVersion) < 0 {
		return "", fmt.Errorf("nix %s is too old to evaluate devShells; monoflake needs Nix %s or newer", version, minNixVersion)
	}
	return version, nil
}

// compareVersions compares dotted numeric versions such as "2.8" and
// "2.18.1"; missing parts count as zero.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}
