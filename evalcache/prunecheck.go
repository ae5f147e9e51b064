package evalcache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The pruning check. A pruned evaluation reads only the modules the model
// says a devShell needs; the check evaluates the whole flake and compares,
// once per pruned module list. It never delays an answer: it starts after
// the evaluation wrote its entry, in a process of its own (Options.
// CheckCommand) that outlives the caller, with its own lock and log in the
// cache folder. Its verdict:
//
//	agree    both give the same derivation: verified/<key>; when pruning was
//	         off for the repository, it is on again
//	differ   the whole flake succeeds where the pruned one failed, or the
//	         derivations differ: pruning is off for the repository
//	         (noprune/), and the entry is marked so that the next request
//	         evaluates every module and says why (Result.PruningOff)
//	unknown  both fail, the whole flake fails alone (a broken module the
//	         pruned list rightly leaves out), a failure was transient, or a
//	         file the first evaluation read changed before the check ran
//	         (the sides would compare two versions of the repository):
//	         nothing changes
//
// While pruning is off, an evaluation that the model could prune with a
// different module list checks that list the other way round.

// checkSide is the side of the comparison a check evaluates.
type checkSide string

const (
	checkWhole  checkSide = "whole"  // the pruned side is known
	checkPruned checkSide = "pruned" // the whole side is known (pruning is off)
)

// outcome is one side of the comparison: a derivation or an error.
type outcome struct {
	DrvPath string `json:"drvPath,omitempty"`
	Error   string `json:"error,omitempty"`
}

// checkJob is a pruning check waiting to run: what a detached check
// process reads from checks/<key>.json.
type checkJob struct {
	Key       string        `json:"key"`
	Dir       string        `json:"dir"` // the cache folder
	DataDir   string        `json:"dataDir"`
	Entry     string        `json:"entry"`
	Evaluated int64         `json:"evaluated"` // the entry's evaluation the check is about
	Request   Request       `json:"request"`
	Side      checkSide     `json:"side"`
	Known     outcome       `json:"known"`
	Nix       string        `json:"nix"`
	Timeout   time.Duration `json:"timeout"`
	IFD       bool          `json:"ifd,omitempty"`
	// Replan, when set, plans the query again from the whole repository
	// (the request came from a plan record).
	Replan *planQuery `json:"replan,omitempty"`
}

// pruningOff is what noprune/ records for a repository.
type pruningOff struct {
	Reason string `json:"reason"`
	Key    string `json:"key"` // the module list whose check turned pruning off
}

// pruning tells whether req's pruned module list is evaluated, and why
// not when the model gave one but a check turned pruning off.
func (c *Cache) pruning(req Request) (use bool, off string) {
	if req.Mode != Scoped || req.Pruned == nil {
		return false, ""
	}
	if st, ok := c.pruningState(req.Root); ok {
		return false, st.Reason
	}
	return true, ""
}

func (c *Cache) pruningState(root string) (pruningOff, bool) {
	data, err := os.ReadFile(c.noPrunePath(root))
	if err != nil {
		return pruningOff{}, false
	}
	var st pruningOff
	if json.Unmarshal(data, &st) != nil || st.Reason == "" {
		st.Reason = "an earlier check found that the pruned module list gave a different devShell"
	}
	return st, true
}

// afterEvaluation starts what an evaluation calls for after its answer,
// if anything: the pruning check of its module list, and planning again
// from the whole repository when the plan came from a plan record.
func (c *Cache) afterEvaluation(a *attempt, known outcome) {
	req := a.req
	job := checkJob{Dir: c.dir, DataDir: c.dataDir, Entry: a.entry, Evaluated: a.start.UnixNano(), Request: req,
		Side: c.checkNeeded(a, known), Known: known, Nix: c.nix, Timeout: c.run.timeout, IFD: c.ifd, Replan: req.replan}
	switch {
	case job.Side != "":
		job.Key = checkKey(req)
	case job.Replan != nil:
		job.Key = hashStrings("replan", a.entry)
	default:
		return
	}
	if len(c.checkCommand) == 0 {
		c.bg.Go(func() { c.check(c.bgCtx, job) })
		return
	}
	if err := c.startCheck(job); err != nil {
		c.log.Warn("cannot start the work after the answer (pruning check, planning again)", "component", req.Component, "error", err)
	}
}

// checkNeeded is the side of the pruning check an evaluation calls for, or
// "" when none.
func (c *Cache) checkNeeded(a *attempt, known outcome) checkSide {
	req := a.req
	if req.Mode != Scoped || req.Pruned == nil {
		return ""
	}
	key := checkKey(req)
	if exists(c.verifiedPath(key)) {
		if a.pruningOff != "" {
			// This very module list was found complete before.
			c.enablePruning(req.Root, "the pruned module list was verified before")
		}
		return ""
	}
	if !a.pruned {
		st, off := c.pruningState(req.Root)
		if !off || st.Key == key || known.Error != "" {
			return "" // the list that failed, or nothing to compare with
		}
		return checkPruned
	}
	return checkWhole
}

// startCheck writes the job and starts CheckCommand on it in a session of
// its own (a terminal's Ctrl-C, a closed editor or direnv ending the hook's
// process group does not reach it), its output in the checks log, and does
// not wait for it: a goroutine reaps it, so a long-lived caller (the
// language server) leaves no zombie, and one that exits first leaves it to
// init.
func (c *Cache) startCheck(job checkJob) error {
	data, err := json.Marshal(job)
	if err != nil {
		return err
	}
	path := c.checkJobPath(job.Key)
	if err := writeCacheFile(path, data); err != nil {
		return err
	}
	logFile, err := os.OpenFile(c.checkLogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open the log of pruning checks: %w", err)
	}
	defer logFile.Close() // the check has its own descriptor once started
	cmd := exec.Command(c.checkCommand[0], append(append([]string{}, c.checkCommand[1:]...), path)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the pruning check: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

// RunCheck runs the pruning check described by the job file at path; the
// command named by Options.CheckCommand calls it, in the session
// startCheck made for it, and it runs the check where it is called,
// logging to the cache folder's checks.log.
func RunCheck(ctx context.Context, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read the pruning check %s: %w", path, err)
	}
	var job checkJob
	if err := json.Unmarshal(data, &job); err != nil {
		// A job cut short (it is written without a sync) is never run;
		// removing it keeps anything that waits for checks from waiting
		// for it. Only a job file of a cache folder is removed.
		if filepath.Base(filepath.Dir(path)) == "checks" && strings.HasSuffix(path, ".json") {
			os.Remove(path)
		}
		return fmt.Errorf("read the pruning check %s: %w", path, err)
	}
	l := layout{dir: job.Dir}
	logFile, err := os.OpenFile(l.checkLogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open the log of pruning checks: %w", err)
	}
	defer logFile.Close()
	c, err := Open(Options{Dir: job.Dir, DataDir: job.DataDir, Nix: job.Nix, Timeout: job.Timeout,
		AllowImportFromDerivation: job.IFD, Log: logFile})
	if err != nil {
		return err
	}
	defer c.Close()
	c.check(ctx, job)
	return nil
}

// check runs a job: the pruning check, which compares both sides and
// records the verdict, and then planning again.
func (c *Cache) check(ctx context.Context, job checkJob) {
	unlock, ok, err := tryLockFile(c.checkLockPath(job.Key))
	if err != nil || !ok {
		return // another process checks this module list
	}
	defer unlock()
	if job.Side != "" {
		c.checkLocked(ctx, job)
	}
	if job.Replan != nil {
		c.replan(ctx, job)
	}
	// Last: while the job file exists, its work is not done.
	os.Remove(c.checkJobPath(job.Key))
}

// checkLocked is check for a caller holding the check's lock.
func (c *Cache) checkLocked(ctx context.Context, job checkJob) {
	req := job.Request
	if exists(c.verifiedPath(job.Key)) {
		return
	}
	whole, pruned := job.Known, job.Known
	var transient bool
	if job.Side == checkWhole {
		full := req
		full.Pruned = nil
		whole, transient = c.checkSide(ctx, full, filepath.Join(req.Root, "flake.nix"))
	} else {
		flakeFile, err := c.writePruned(req.Pruned)
		if err != nil {
			c.log.Warn("pruning check failed", "component", req.Component, "error", err)
			return
		}
		pruned, transient = c.checkSide(ctx, req, flakeFile)
	}
	if ctx.Err() != nil || transient {
		c.log.Info("pruning check inconclusive", "component", req.Component, "error", whole.Error+pruned.Error)
		return
	}
	if why := c.inputsMoved(job); why != "" {
		// The side just evaluated read the files as they are now, the
		// known side read them as they were: comparing them would blame
		// an edit on the pruned module list.
		c.log.Info("pruning check inconclusive", "component", req.Component, "because", why)
		return
	}
	switch {
	case pruned.Error == "" && whole.Error == "" && pruned.DrvPath == whole.DrvPath:
		if err := writeAtomic(c.verifiedPath(job.Key), []byte(pruned.DrvPath+"\n")); err != nil {
			c.log.Warn("cannot record the pruning check", "error", err)
		}
		c.log.Info("verified pruning", "component", req.Component, "shell", req.Shell, "modules", len(req.Pruned.Modules))
		if job.Side == checkPruned {
			c.enablePruning(req.Root, "a check found the pruned module list of "+req.Component+" complete")
		}
	case pruned.Error != "" && whole.Error == "":
		c.differ(ctx, job, fmt.Sprintf("evaluating only the modules %s needs failed (%s) where the whole flake evaluates", req.Component, pruned.Error))
	case pruned.Error == "" && whole.Error == "":
		c.differ(ctx, job, fmt.Sprintf("the modules %s needs gave the derivation %s where the whole flake gives %s", req.Component, pruned.DrvPath, whole.DrvPath))
	default:
		c.log.Info("pruning check inconclusive: the whole flake fails", "component", req.Component, "pruned", pruned.Error, "whole", whole.Error)
	}
}

// inputsMoved says why the known side of a check no longer describes the
// files, or "" when every file its evaluation read is unchanged.
func (c *Cache) inputsMoved(job checkJob) string {
	rec, err := readRecord(job.Entry)
	switch {
	case err != nil:
		return "its entry cannot be read: " + err.Error()
	case rec.Evaluated != job.Evaluated:
		return "the component was evaluated again since"
	}
	if _, ok, _ := validate(rec.Deps); !ok {
		return "a file the evaluation read changed since"
	}
	return ""
}

// verifyPruning runs the pruning check of an entry now, unless a check
// already agreed, waiting for a check another process runs: what is
// published answers for every checkout, so it must not wait for a check
// after the answer as a local answer does. off says why the pruned module
// list is not verified: pruning is off now (the entry will be evaluated
// again from every module), or the check could not tell.
func (c *Cache) verifyPruning(ctx context.Context, req Request, entry string, rec *record) (off string) {
	key := checkKey(req)
	if exists(c.verifiedPath(key)) {
		return ""
	}
	unlock, err := lockFile(ctx, c.checkLockPath(key))
	if err != nil {
		return fmt.Sprintf("its pruning check did not run: %v", err)
	}
	defer unlock()
	defer os.Remove(c.checkJobPath(key))
	c.checkLocked(ctx, checkJob{Key: key, Dir: c.dir, DataDir: c.dataDir, Entry: entry, Evaluated: rec.Evaluated, Request: req,
		Side: checkWhole, Known: outcome{DrvPath: rec.DrvPath}, Nix: c.nix, Timeout: c.run.timeout, IFD: c.ifd})
	if exists(c.verifiedPath(key)) {
		return ""
	}
	if st, ok := c.pruningState(req.Root); ok {
		return st.Reason
	}
	return "its pruning check could not tell whether the pruned module list is complete (see the log)"
}

// checkSide evaluates one side; transient says its failure proves nothing.
func (c *Cache) checkSide(ctx context.Context, req Request, flakeFile string) (outcome, bool) {
	ev, err := c.evalDrvPath(ctx, req, flakeFile)
	if err == nil {
		return outcome{DrvPath: ev.drvPath}, false
	}
	f := c.describe(ctx, &attempt{req: req, flakeFile: flakeFile}, ev, err)
	return outcome{Error: f.err.Error()}, f.transient || ctx.Err() != nil
}

// differ turns pruning off for the repository and marks the entry the
// check was about, so that the next request evaluates every module.
func (c *Cache) differ(ctx context.Context, job checkJob, reason string) {
	req := job.Request
	reason = "pruning is off for " + req.Root + ": " + reason
	st, _ := json.Marshal(pruningOff{Reason: reason, Key: job.Key})
	if err := writeAtomic(c.noPrunePath(req.Root), st); err != nil {
		c.log.Warn("cannot record that pruning is off", "root", req.Root, "error", err)
		return
	}
	c.log.Warn("pruned evaluation differs from the whole flake; evaluating every module of this repository from now on",
		"root", req.Root, "component", req.Component, "reason", reason)
	if job.Side != checkWhole {
		return
	}
	c.markRetry(ctx, job)
}

// markRetry marks the entry a job is about so that the next request
// evaluates it again, unless it was evaluated again since.
func (c *Cache) markRetry(ctx context.Context, job checkJob) {
	unlock, err := lockFile(ctx, c.entryLockPath(job.Entry))
	if err != nil {
		return
	}
	defer unlock()
	rec, err := readRecord(job.Entry)
	if err != nil || rec.Evaluated != job.Evaluated {
		return // evaluated again since: that evaluation knew
	}
	rec.Retry = true
	if err := writeRecord(job.Entry, rec); err != nil {
		c.log.Warn("cannot mark the entry for a new evaluation", "component", job.Request.Component, "error", err)
	}
}

// enablePruning turns pruning on again for a repository.
func (c *Cache) enablePruning(root, why string) {
	if err := os.Remove(c.noPrunePath(root)); err != nil && !errors.Is(err, os.ErrNotExist) {
		c.log.Warn("cannot turn pruning on again", "root", root, "error", err)
		return
	}
	c.log.Info("pruning is on again", "root", root, "because", why)
}
