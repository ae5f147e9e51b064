package genrepo

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// maxDepth bounds how long a chain of references may get. Real monorepos
// have a few layers of libraries under their services; a bound also keeps the
// closure of any one devShell small however many components there are, so
// evaluating a shell costs the same in a repository of 10 or 5,000.
const maxDepth = 3

// plan is every random choice about a repository, made once and in order, so
// the files can then be written concurrently and still come out the same.
type plan struct {
	seed       int64
	components []componentPlan
	nonNix     int
	blobBytes  int64
}

// componentPlan is what one component defines and references.
type componentPlan struct {
	index int
	name  string
	// packageDeps are referenced as self'.packages.X in the package's
	// inputs; shellDeps as self'.devShells.X in the shell's inputsFrom. Both
	// hold indexes in ascending order and shellDeps is a subset.
	packageDeps []int
	shellDeps   []int
	hasApp      bool
	hasCheck    bool
	nonNix      int // extra files that are not Nix
}

func newPlan(opt Options) *plan {
	most := opt.Dependencies
	if most == 0 {
		most = DefaultDependencies
	}
	most = max(most, 0)
	width := len(fmt.Sprint(opt.Components - 1))
	width = max(width, 4)

	rng := rand.New(rand.NewPCG(uint64(opt.Seed), 0x9e3779b97f4a7c15))
	p := &plan{seed: opt.Seed, nonNix: opt.NonNixFiles, blobBytes: opt.BlobBytes}
	depth := make([]int, opt.Components)
	var shallow []int // components that may still be referenced
	for i := range opt.Components {
		c := componentPlan{
			index:    i,
			name:     fmt.Sprintf("c%0*d", width, i),
			hasApp:   rng.IntN(3) == 0,
			hasCheck: rng.IntN(4) == 0,
			nonNix:   share(opt.NonNixFiles, opt.Components, i),
		}
		n := rng.IntN(min(len(shallow), most) + 1)
		if i == 1 && most > 0 {
			// Benchmarks look for "a component with exactly one
			// dependency"; this makes sure every repository has one.
			n = 1
		}
		c.packageDeps = pickDistinct(rng, shallow, n)
		for _, d := range c.packageDeps {
			depth[i] = max(depth[i], depth[d]+1)
			if rng.IntN(2) == 0 {
				c.shellDeps = append(c.shellDeps, d)
			}
		}
		if depth[i] < maxDepth {
			shallow = append(shallow, i)
		}
		p.components = append(p.components, c)
	}
	return p
}

// share splits total items over n holders as evenly as possible and returns
// what holder i gets.
func share(total, n, i int) int {
	s := total / n
	if i < total%n {
		s++
	}
	return s
}

// pickDistinct returns n different elements of from, in ascending order.
func pickDistinct(rng *rand.Rand, from []int, n int) []int {
	if n == 0 {
		return nil
	}
	picked := make([]int, 0, n)
	for len(picked) < n {
		x := from[rng.IntN(len(from))]
		if !slices.Contains(picked, x) {
			picked = append(picked, x)
		}
	}
	slices.Sort(picked)
	return picked
}

// outputs lists the output kinds the component defines, in the order they
// appear in its outputs.nix.
func (c componentPlan) outputs() []string {
	out := []string{"packages", "devShells"}
	if c.hasApp {
		out = append(out, "apps")
	}
	if c.hasCheck {
		out = append(out, "checks")
	}
	return out
}

// Random streams of a component besides the plan's, so that changing the
// filler text never shifts the dependency graph, nor the Nix files the files
// that are not Nix.
const (
	nixTextStream uint64 = iota + 1
	nonNixStream
)

// componentRand returns the component's own random stream of that kind.
func (p *plan) componentRand(stream uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(p.seed)^stream<<56, uint64(i)))
}
