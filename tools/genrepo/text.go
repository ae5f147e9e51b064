package genrepo

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// componentText is what the templates of one component are filled with.
// Filler (notes, variables, build steps) gives the files the size and mix of
// comments, strings and attribute sets of hand-written ones.
type componentText struct {
	Name         string
	EnvPrefix    string // Name in upper case, for variable names
	Summary      string
	Notes        []string
	PackageNotes []string
	ShellNotes   []string
	Version      string
	Owner        string
	Tier         string
	Tags         []string
	Tool         string
	PackageDeps  []string
	ShellDeps    []string
	HasApp       bool
	HasCheck     bool
	BuildEnv     []envVar
	ShellEnv     []envVar
	Steps        []string
	HookLines    []string
}

type envVar struct{ Name, Value string }

// words are safe inside Nix strings and comments: no quotes, no `$`, no
// backslashes.
var words = strings.Fields(`
	account adapter audit batch billing boundary broker buffer cache catalog
	channel checkout client cluster config consumer cursor dashboard delta
	digest dispatch domain engine event export feature feed filter gateway
	graph handler index invoice job ledger limit loader metric migration
	model monitor notice offset order parser partition payment pipeline
	policy profile query queue quota record region registry replica report
	request retry route schedule schema search session shard signal snapshot
	stream task tenant ticket token topic trace upload user vault worker`)

// tools are the fake tool chains of the fixture's nix/lib/pkgs.nix.
var tools = []string{"python3", "cargo", "rustc", "nodejs", "terraform"}

var tiers = []string{"library", "service", "job", "tool"}

func newComponentText(p *plan, c componentPlan) componentText {
	rng := p.componentRand(nixTextStream, c.index)
	t := componentText{
		Name:        c.name,
		EnvPrefix:   strings.ToUpper(c.name),
		Summary:     sentence(rng, 6+rng.IntN(6)),
		Version:     fmt.Sprintf("%d.%d.%d", rng.IntN(4), rng.IntN(20), rng.IntN(10)),
		Owner:       "team-" + pick(rng, words),
		Tier:        pick(rng, tiers),
		Tool:        pick(rng, tools),
		PackageDeps: names(p, c.packageDeps),
		ShellDeps:   names(p, c.shellDeps),
		HasApp:      c.hasApp,
		HasCheck:    c.hasCheck,
	}
	// Comment sizes vary over an order of magnitude so files range from a
	// few hundred bytes to a few KB, like real ones.
	t.Notes = paragraph(rng, rng.IntN(30))
	t.PackageNotes = paragraph(rng, rng.IntN(12))
	t.ShellNotes = paragraph(rng, rng.IntN(12))
	for range 1 + rng.IntN(5) {
		t.Tags = append(t.Tags, pick(rng, words))
	}
	t.BuildEnv = variables(rng, t.EnvPrefix, rng.IntN(6))
	t.ShellEnv = variables(rng, t.EnvPrefix, 1+rng.IntN(10))
	for range rng.IntN(8) {
		t.Steps = append(t.Steps, fmt.Sprintf(`echo "%s" >> "$out/share/${name}/notes"`, sentence(rng, 4+rng.IntN(6))))
	}
	for i := range rng.IntN(5) {
		t.HookLines = append(t.HookLines, fmt.Sprintf("export %s_%s_%d=%s", t.EnvPrefix, strings.ToUpper(pick(rng, words)), i, pick(rng, words)))
	}
	return t
}

// names returns the names of components by index, or nil for none.
func names(p *plan, indexes []int) []string {
	if len(indexes) == 0 {
		return nil
	}
	out := make([]string, len(indexes))
	for i, x := range indexes {
		out[i] = p.components[x].name
	}
	return out
}

func pick(rng *rand.Rand, from []string) string { return from[rng.IntN(len(from))] }

func sentence(rng *rand.Rand, n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = pick(rng, words)
	}
	return strings.ToUpper(ws[0][:1]) + strings.Join(ws, " ")[1:] + "."
}

// paragraph returns n comment lines of about 70 characters.
func paragraph(rng *rand.Rand, n int) []string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = sentence(rng, 8+rng.IntN(4))
	}
	return lines
}

// variables returns n environment variables with distinct names.
func variables(rng *rand.Rand, prefix string, n int) []envVar {
	vars := make([]envVar, n)
	for i := range vars {
		vars[i] = envVar{
			Name:  fmt.Sprintf("%s_%s_%d", prefix, strings.ToUpper(pick(rng, words)), i),
			Value: sentence(rng, 1+rng.IntN(4)),
		}
	}
	return vars
}
