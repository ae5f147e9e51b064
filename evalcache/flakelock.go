package evalcache

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
)

// flakeLock is what monoflake reads of a flake.lock: its nodes' locked
// attributes. A missing or unreadable lock reads as one without nodes.
type flakeLock struct {
	Nodes map[string]struct {
		Locked map[string]any `json:"locked"`
	} `json:"nodes"`
}

func readFlakeLock(flakeDir string) flakeLock {
	var lock flakeLock
	data, err := os.ReadFile(filepath.Join(flakeDir, "flake.lock"))
	if err == nil {
		_ = json.Unmarshal(data, &lock)
	}
	return lock
}

// relativePaths lists the distinct relative `path:` inputs, as paths
// relative to the flake's directory, sorted.
func (l flakeLock) relativePaths() []string {
	seen := map[string]bool{}
	var rels []string
	for _, n := range l.Nodes {
		p, _ := n.Locked["path"].(string)
		if n.Locked["type"] == "path" && p != "" && !filepath.IsAbs(p) && !seen[p] {
			seen[p] = true
			rels = append(rels, p)
		}
	}
	sort.Strings(rels)
	return rels
}

// lockedWith lists the nodes locked with attribute attr, for inputs of
// type typ ("" for any), sorted.
func (l flakeLock) lockedWith(typ, attr string) []string {
	var names []string
	for name, n := range l.Nodes {
		if _, ok := n.Locked[attr]; ok && (typ == "" || n.Locked["type"] == typ) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}
