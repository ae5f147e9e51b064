package lsp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// gitAdd adds path to the index of the git work tree holding it, so that
// flake evaluation, which sees only what git tracks, sees it. It is the one
// place the server runs git; git runs in a process group of its own,
// killed whole when ctx ends.
func gitAdd(ctx context.Context, path string) error {
	cmd := exec.CommandContext(ctx, "git", "-C", filepath.Dir(path), "add", "--", filepath.Base(path))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The negative pid addresses the whole process group.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, exec.ErrNotFound):
		return errors.New("git is not installed, so monoflake cannot add files to it")
	case err != nil:
		msg, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		return fmt.Errorf("git add %s failed: %s", path, strings.TrimPrefix(msg, "fatal: "))
	}
	return nil
}
