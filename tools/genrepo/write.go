package genrepo

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"text/template"

	"github.com/sourcegraph/conc/pool"
)

//go:embed templates/*.tmpl
var templateFiles embed.FS

// tree writes files below one root and counts them by kind.
type tree struct {
	root        string
	templates   *template.Template
	nixFiles    atomic.Int64
	nonNixFiles atomic.Int64
}

// write puts every file of the plan below root. Components are written
// concurrently: each one's content depends only on the plan, so the order
// of writing does not change the result.
func write(ctx context.Context, root string, p *plan, libs []library, in *flakeInputs) (*Repo, error) {
	tmpl, err := template.ParseFS(templateFiles, "templates/*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse the file templates: %w", err)
	}
	t := &tree{root: root, templates: tmpl}
	repo := &Repo{Root: root}

	// Writing is mostly waiting on the file system, so a few more workers
	// than cores keep it busy without flooding it.
	wp := pool.New().WithErrors().WithContext(ctx).WithCancelOnError().WithMaxGoroutines(2 * runtime.GOMAXPROCS(0))
	if p.blobBytes > 0 {
		repo.Blob = BlobPath
		wp.Go(func(ctx context.Context) error { return t.writeBlob(ctx, BlobPath, p.blobBytes, p.seed) })
	}
	wp.Go(func(context.Context) error { return t.writeTop(p, libs, in) })
	for _, c := range p.components {
		repo.Components = append(repo.Components, Component{
			Name:         c.name,
			Dependencies: names(p, c.packageDeps),
			Outputs:      c.outputs(),
		})
		wp.Go(func(ctx context.Context) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return t.writeComponent(p, c)
		})
	}
	if err := wp.Wait(); err != nil {
		return nil, err
	}
	repo.NixFiles = int(t.nixFiles.Load())
	repo.NonNixFiles = int(t.nonNixFiles.Load())
	return repo, nil
}

// writeTop writes flake.nix and the fixture's libraries. The flake takes the
// real libraries as inputs when in is set, else the fixture's look-alike.
func (t *tree) writeTop(p *plan, libs []library, in *flakeInputs) error {
	top := struct {
		Components []string
		Inputs     *flakeInputs
	}{make([]string, len(p.components)), in}
	for i, c := range p.components {
		top.Components[i] = c.name
	}
	if err := t.writeTemplate("flake.nix", "flake.nix.tmpl", top); err != nil {
		return err
	}
	for _, l := range libs {
		if err := t.writeFile(l.path, l.data); err != nil {
			return err
		}
	}
	return nil
}

// writeComponent writes one component's Nix files and its share of the
// files that are not Nix.
func (t *tree) writeComponent(p *plan, c componentPlan) error {
	text := newComponentText(p, c)
	for _, f := range componentFiles() {
		if err := t.writeTemplate(path.Join(c.name, "nix", f), f+".tmpl", text); err != nil {
			return err
		}
	}
	return t.writeNonNix(c, p.componentRand(nonNixStream, c.index))
}

// filesPerFolder keeps folders of files that are not Nix to a size that real
// source trees have.
const filesPerFolder = 100

// sources are the kinds of files that are not Nix, with a line of content
// that looks like each.
var sources = []struct{ ext, line string }{
	{"go", "// %s\n"},
	{"ts", "// %s\n"},
	{"py", "# %s\n"},
	{"md", "%s\n\n"},
	{"json", "{\"note\": \"%s\"}\n"},
}

func (t *tree) writeNonNix(c componentPlan, rng *rand.Rand) error {
	for i := range c.nonNix {
		src := sources[rng.IntN(len(sources))]
		var b strings.Builder
		for range 1 + rng.IntN(8) {
			fmt.Fprintf(&b, src.line, sentence(rng, 6+rng.IntN(8)))
		}
		name := fmt.Sprintf("%s/src/d%03d/%s_%d.%s", c.name, i/filesPerFolder, pick(rng, words), i, src.ext)
		if err := t.writeFile(name, []byte(b.String())); err != nil {
			return err
		}
	}
	return nil
}

func (t *tree) writeTemplate(name, tmpl string, data any) error {
	var b bytes.Buffer
	if err := t.templates.ExecuteTemplate(&b, tmpl, data); err != nil {
		return fmt.Errorf("fill %s for %s: %w", tmpl, name, err)
	}
	return t.writeFile(name, b.Bytes())
}

// writeFile writes a file at a slash-separated path below the root.
func (t *tree) writeFile(name string, data []byte) error {
	full := filepath.Join(t.root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return fmt.Errorf("create the folder of %s: %w", name, err)
	}
	if err := os.WriteFile(full, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	t.count(name)
	return nil
}

func (t *tree) count(name string) {
	if strings.HasSuffix(name, ".nix") {
		t.nixFiles.Add(1)
	} else {
		t.nonNixFiles.Add(1)
	}
}
