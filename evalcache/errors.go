package evalcache

import (
	"regexp"
	"strconv"
	"strings"
)

var (
	ansiEscape        = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)
	errorLine         = regexp.MustCompile(`^\s*error:\s?(.*)$`)
	atPosition        = regexp.MustCompile(`^\s*at (.+):(\d+):(\d+):?\s*$`)
	noiseLine         = regexp.MustCompile(`^(evaluating file|copied source|instantiated|warning:|trace:|building|copying|using|acquiring|performing|\s*\(use '--show-trace')`)
	dependencyFailure = regexp.MustCompile(`^\d+ dependenc(y|ies) of derivation .* failed to build`)
	emptyOrPipe       = regexp.MustCompile(`^\s*(\d+\|.*|\|.*)?$`)
)

// parseNixError reads nix's error report: the last "error:" (newer nix
// prints the trace first and the innermost error last) and the first
// "at FILE:LINE:COL:" after it. mapPath maps store paths of flake sources
// back to the repository.
func parseNixError(stderr []byte, mapPath func(string) (string, bool)) *EvalError {
	lines := strings.Split(ansiEscape.ReplaceAllString(string(stderr), ""), "\n")
	last := -1
	for i, l := range lines {
		g := errorLine.FindStringSubmatch(l)
		if g == nil || strings.TrimSpace(g[1]) == "" {
			continue
		}
		// "N dependencies of derivation ... failed to build" follows the
		// error that says why; keep that one.
		if last >= 0 && dependencyFailure.MatchString(g[1]) {
			continue
		}
		last = i
	}
	if last < 0 {
		var kept []string
		for _, l := range lines {
			if strings.TrimSpace(l) != "" && !noiseLine.MatchString(l) {
				kept = append(kept, strings.TrimSpace(l))
			}
		}
		msg := strings.Join(kept, " ")
		if msg == "" {
			msg = "nix failed without an error message"
		}
		return &EvalError{Message: msg}
	}
	e := &EvalError{Message: strings.TrimSpace(errorLine.FindStringSubmatch(lines[last])[1])}
	for _, l := range lines[last+1:] {
		if g := atPosition.FindStringSubmatch(l); g != nil {
			if p, ok := mapPath(g[1]); ok {
				e.File = p
				e.Line, _ = strconv.Atoi(g[2])
				e.Column, _ = strconv.Atoi(g[3])
			}
			break
		}
		if errorLine.MatchString(l) {
			break
		}
		if emptyOrPipe.MatchString(l) || noiseLine.MatchString(l) {
			continue
		}
		// A message continued on the next line (a builder's last log lines).
		e.Message += "\n" + strings.TrimSpace(l)
	}
	return e
}
