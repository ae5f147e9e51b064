// Command corpus runs monoflake's model over a directory of real
// repositories and measures it: per repository, the components found
// against those expected, the diagnostics by code and severity, what the
// model could not read, and how many reference sites land on their
// definition.
//
//	go run ./tools/corpus --dir DIR --expect EXPECT_DIR
//
// DIR holds one folder per repository. EXPECT_DIR holds the expectations:
// references.json (sites and the definitions they must reach),
// components.json (the directories expected to be components) and
// AUDIT.md (errors already classified as real). An error diagnostic counts
// as real when the audit lists it as such or, for syntax errors, when
// `nix-instantiate --parse` rejects the file too; any other error is
// reported as unverified, and the command fails when there is one, or when
// a score is below its target.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/monoflake/monoflake/analysis"
)

type site struct {
	Repo        string `json:"repo"`
	File        string `json:"file"`
	Line        int    `json:"line"`
	Col         int    `json:"col"`
	Reference   string `json:"reference"`
	Definitions []struct {
		File string `json:"file"`
		Line *int   `json:"line"`
	} `json:"definitions"`
}

type expectedComponent struct {
	Dir string `json:"dir"`
	Why string `json:"why"`
}

func main() {
	dir := flag.String("dir", "", "folder holding one folder per repository")
	expect := flag.String("expect", "", "folder holding references.json, components.json and AUDIT.md")
	minNav := flag.Float64("min-navigation", 0.95, "fail below this share of in-repository sites landing on a definition")
	minComponents := flag.Float64("min-components", 0.90, "fail below this share of expected components found")
	verbose := flag.Bool("v", false, "list every miss, unverified error and unread cause")
	flag.Parse()
	if *dir == "" || *expect == "" {
		fmt.Fprintln(os.Stderr, "usage: corpus --dir DIR --expect EXPECT_DIR [-v]")
		os.Exit(2)
	}
	r, err := run(context.Background(), os.Stdout, *dir, *expect, *verbose)
	if err != nil {
		fmt.Fprintf(os.Stderr, "corpus: %v\n", err)
		os.Exit(2)
	}
	fail := false
	if r.unverified > 0 {
		fmt.Printf("FAIL: %d error diagnostics are not known to be real\n", r.unverified)
		fail = true
	}
	if nav := r.navScore(); nav < *minNav {
		fmt.Printf("FAIL: navigation %.1f%% is below %.0f%%\n", 100*nav, 100**minNav)
		fail = true
	}
	if comp := r.componentScore(); comp < *minComponents {
		fmt.Printf("FAIL: components %.1f%% is below %.0f%%\n", 100*comp, 100**minComponents)
		fail = true
	}
	if r.wrongNone > 0 {
		fmt.Printf("FAIL: %d sites whose definition lies outside the repository got an answer\n", r.wrongNone)
		fail = true
	}
	if fail {
		os.Exit(1)
	}
}

// results are the totals over every repository.
type results struct {
	sitesIn, sitesCorrect int // sites with an in-repository definition
	sitesOut, wrongNone   int // sites whose definition is outside
	components, found     int
	unverified            int
}

func (r results) navScore() float64 {
	if r.sitesIn == 0 {
		return 1
	}
	return float64(r.sitesCorrect) / float64(r.sitesIn)
}

func (r results) componentScore() float64 {
	if r.components == 0 {
		return 1
	}
	return float64(r.found) / float64(r.components)
}

func run(ctx context.Context, w io.Writer, dir, expect string, verbose bool) (results, error) {
	var res results
	var sites []site
	if err := readJSON(filepath.Join(expect, "references.json"), &sites); err != nil {
		return res, err
	}
	var comps map[string][]expectedComponent
	if err := readJSON(filepath.Join(expect, "components.json"), &comps); err != nil {
		return res, err
	}
	real, err := readAudit(filepath.Join(expect, "AUDIT.md"))
	if err != nil {
		return res, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return res, err
	}
	nixParse, _ := exec.LookPath("nix-instantiate")
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		repo := e.Name()
		root := filepath.Join(dir, repo)
		start := time.Now()
		s, err := analysis.Load(ctx, root)
		if err != nil {
			fmt.Fprintf(w, "%s: cannot load: %v\n", repo, err)
			continue
		}
		took := time.Since(start)

		// Components.
		have := map[string]*analysis.Component{}
		for _, c := range s.Components() {
			rel, _ := filepath.Rel(root, c.Dir)
			have[filepath.ToSlash(rel)] = c
		}
		found := 0
		var missed []string
		for _, ec := range comps[repo] {
			if c := have[ec.Dir]; c != nil && (len(c.Outputs) > 0 || c.SubFlake) {
				found++
			} else {
				missed = append(missed, ec.Dir)
			}
		}
		res.components += len(comps[repo])
		res.found += found

		// Diagnostics.
		counts := map[string]int{}
		var unverified []string
		for _, d := range s.AllDiagnostics() {
			counts[d.Severity.String()+" "+d.Code]++
			if d.Severity != analysis.SeverityError {
				continue
			}
			rel, _ := filepath.Rel(root, d.Loc.File)
			if real[repo+"|"+filepath.ToSlash(rel)+"|"+d.Code] {
				continue
			}
			if d.Code == analysis.CodeSyntax && nixParse != "" && !parses(ctx, nixParse, d.Loc.File) {
				continue
			}
			line, col := position(s, d)
			unverified = append(unverified, fmt.Sprintf("%s:%d:%d: %s [%s]", rel, line, col, d.Message, d.Code))
		}
		res.unverified += len(unverified)

		// Navigation.
		in, correct, out, answered := 0, 0, 0, 0
		var navMisses []string
		for _, st := range sites {
			if st.Repo != repo {
				continue
			}
			got := definitionAt(s, filepath.Join(root, st.File), st.Line, st.Col)
			if st.Definitions == nil {
				out++
				if len(got) > 0 {
					answered++
					navMisses = append(navMisses, fmt.Sprintf("%s:%d:%d %s: expected no answer, got %v", st.File, st.Line, st.Col, st.Reference, rels(root, got)))
				}
				continue
			}
			in++
			if matches(root, got, st) {
				correct++
			} else {
				navMisses = append(navMisses, fmt.Sprintf("%s:%d:%d %s: got %v", st.File, st.Line, st.Col, st.Reference, rels(root, got)))
			}
		}
		res.sitesIn += in
		res.sitesCorrect += correct
		res.sitesOut += out
		res.wrongNone += answered

		unread := s.Unread()
		fmt.Fprintf(w, "%s: %d files in %s; components %d/%d (%d in all); navigation %d/%d (+%d/%d outside); unread causes %d; diagnostics %s\n",
			repo, len(s.Files()), took.Round(time.Millisecond), found, len(comps[repo]), len(s.Components()), correct, in, out-answered, out, len(unread), summary(counts))
		if verbose {
			for _, m := range missed {
				fmt.Fprintf(w, "  component not found: %s\n", m)
			}
			for _, m := range navMisses {
				fmt.Fprintf(w, "  navigation: %s\n", m)
			}
			for _, u := range unverified {
				fmt.Fprintf(w, "  unverified error: %s\n", u)
			}
			for _, u := range unread {
				rel, _ := filepath.Rel(root, u.File)
				fmt.Fprintf(w, "  unread: %s:%d: %s\n", rel, u.Line, u.Why)
			}
		}
	}
	fmt.Fprintf(w, "total: components %d/%d (%.1f%%); navigation %d/%d (%.1f%%), outside %d/%d with no answer; unverified errors %d\n",
		res.found, res.components, 100*res.componentScore(), res.sitesCorrect, res.sitesIn, 100*res.navScore(), res.sitesOut-res.wrongNone, res.sitesOut, res.unverified)
	return res, nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// auditRow is a row of the audit's table of classified diagnostics:
// | repo | `file:line:col` | code | message | class | reason |
var auditRow = regexp.MustCompile("^\\| ([^|]+) \\| `([^`:]+):\\d+:\\d+` \\| ([a-z-]+) \\| [^|]* \\| (T|TD|T\\?) \\|")

// readAudit returns the diagnostics the audit classifies as real, as
// "repo|file|code".
func readAudit(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := auditRow.FindStringSubmatch(sc.Text()); m != nil {
			out[strings.TrimSpace(m[1])+"|"+m[2]+"|"+m[3]] = true
		}
	}
	return out, sc.Err()
}

// parses reports whether nix's own parser accepts the file.
func parses(ctx context.Context, nix, file string) bool {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, nix, "--parse", file).Run() == nil
}

func position(s *analysis.Snapshot, d analysis.Diagnostic) (int, int) {
	f := s.File(d.Loc.File)
	if f == nil || f.Lines() == nil {
		return 0, 0
	}
	l, c := f.Lines().Position(d.Loc.Span.Start)
	return l + 1, c + 1
}

// definitionAt asks the model for the definition at a 1-based line and
// byte column.
func definitionAt(s *analysis.Snapshot, file string, line, col int) []analysis.Location {
	f := s.File(file)
	if f == nil || f.Lines() == nil {
		return nil
	}
	return analysis.Definition(s, file, f.Lines().Offset(line-1, col-1))
}

func matches(root string, got []analysis.Location, st site) bool {
	for _, g := range got {
		rel, _ := filepath.Rel(root, g.File)
		for _, d := range st.Definitions {
			if filepath.ToSlash(rel) != d.File {
				continue
			}
			if d.Line == nil || lineOf(g) == *d.Line {
				return true
			}
		}
	}
	return false
}

// lineOf is the 1-based line of a location, read from its file.
func lineOf(l analysis.Location) int {
	data, err := os.ReadFile(l.File)
	if err != nil || l.Span.Start > len(data) {
		return 0
	}
	return strings.Count(string(data[:l.Span.Start]), "\n") + 1
}

func rels(root string, locs []analysis.Location) []string {
	var out []string
	for _, l := range locs {
		rel, _ := filepath.Rel(root, l.File)
		out = append(out, fmt.Sprintf("%s:%d", rel, lineOf(l)))
	}
	return out
}

func summary(counts map[string]int) string {
	var keys []string
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
