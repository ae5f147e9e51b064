package analysis

import (
	"path"
	"strings"
)

// Modules of flake inputs the model knows without reading them: for each,
// the output categories it may add names to. Importing one opens only
// those categories; any other module of an input opens every category,
// since it may define anything. Each entry was read from the module's own
// source; a project is recognised by its repository's name in the input's
// URL, else by the input's name.
type knownModule struct {
	// perSystem and flake list the categories the module may add names to.
	perSystem []string
	flake     []string
	// derives maps a perSystem option the module declares to the output
	// category it makes one name for each of the option's names.
	derives map[string]string
}

var knownModules = map[string]knownModule{
	// treefmt-nix: formatter.<system> and checks.<system>.treefmt.
	"treefmt-nix": {perSystem: []string{Formatter, Checks}},
	// process-compose-flake: a package (and a check) per process-compose
	// configuration.
	"process-compose-flake": {perSystem: []string{Packages, Checks}, derives: map[string]string{"process-compose": Packages}},
	// git-hooks.nix, formerly pre-commit-hooks.nix: checks.<system>.pre-commit.
	"git-hooks.nix":        {perSystem: []string{Checks}},
	"pre-commit-hooks.nix": {perSystem: []string{Checks}},
	// numtide/devshell: a devShell per devshells.<name>.
	"devshell": {perSystem: []string{DevShells}, derives: map[string]string{"devshells": DevShells}},
}

// flakePartsModules are flake-parts' own modules (flake-parts.flakeModules.X).
var flakePartsModules = map[string]knownModule{
	"partitions":   {},
	"modules":      {flake: []string{"modules"}},
	"flakeModules": {flake: []string{"flakeModules"}},
	"easyOverlay":  {flake: []string{"overlays"}},
	"bundlers":     {perSystem: []string{"bundlers"}},
}

// known looks up the module an import takes from an input.
func known(in inputFact, declared bool, imp importFact) (knownModule, bool) {
	project := in.Name
	if declared {
		if p := repositoryName(in.URL); p != "" {
			project = p
		}
	} else {
		project = imp.Input
	}
	if project == "flake-parts" {
		if len(imp.Attr) == 2 && imp.Attr[0] == "flakeModules" {
			k, ok := flakePartsModules[imp.Attr[1]]
			return k, ok
		}
		return knownModule{}, false
	}
	k, ok := knownModules[project]
	if !ok {
		k, ok = knownModules[imp.Input]
	}
	// Only the module itself (flakeModule, flakeModules.default), not
	// other attributes of the input.
	if ok && len(imp.Attr) >= 1 && (imp.Attr[0] == "flakeModule" || imp.Attr[0] == "flakeModules") {
		return k, true
	}
	return knownModule{}, false
}

// repositoryName is the repository a flake URL names: github:numtide/treefmt-nix
// and https://github.com/numtide/treefmt-nix/archive/main.tar.gz give treefmt-nix.
func repositoryName(url string) string {
	u := url
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	for _, scheme := range []string{"github:", "gitlab:", "sourcehut:"} {
		if rest, ok := strings.CutPrefix(u, scheme); ok {
			parts := strings.Split(rest, "/")
			if len(parts) >= 2 {
				return parts[1]
			}
			return ""
		}
	}
	if i := strings.Index(u, "://"); i >= 0 {
		parts := strings.Split(strings.Trim(u[i+3:], "/"), "/")
		if len(parts) >= 3 {
			return strings.TrimSuffix(parts[2], ".git")
		}
	}
	return strings.TrimSuffix(path.Base(u), ".git")
}
