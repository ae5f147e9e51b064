// Command genrepo writes a synthetic Nix flake monorepo for benchmarks, the
// same one genrepo.Generate writes for the same flags.
//
//	go run ./tools/genrepo/cmd/genrepo -components 5000 -git /tmp/big
//	go run ./tools/genrepo/cmd/genrepo -components 5000 -git -nixlibs ../shared/nixlibs -inputs ../big-inputs ../big
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/monoflake/monoflake/tools/genrepo"
)

func main() {
	var opt genrepo.Options
	flag.IntVar(&opt.Components, "components", 100, "how many components to generate")
	flag.IntVar(&opt.Dependencies, "dependencies", genrepo.DefaultDependencies, "the most components one component references (negative: none)")
	flag.Int64Var(&opt.Seed, "seed", 0, "seed of every random choice")
	flag.IntVar(&opt.NonNixFiles, "non-nix-files", 0, "how many extra files that are not Nix to spread over the components")
	flag.Int64Var(&opt.BlobBytes, "blob-bytes", 0, "size of one large binary file at "+genrepo.BlobPath+" (0: none)")
	flag.BoolVar(&opt.Git, "git", false, "make the repository a git work tree with everything committed")
	flag.StringVar(&opt.NixLibs, "nixlibs", "", "folder of the real flake-parts and nixpkgs-lib to use as the flake's inputs (default: the fixture's look-alike)")
	flag.StringVar(&opt.InputsDir, "inputs", "", "folder, empty or new, that -nixlibs is copied into")
	flag.StringVar(&opt.Fixture, "fixture", "", "fixture monorepo whose nix/ folder is copied (default: testdata/monorepo of the module around the working directory)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: genrepo [flags] DIR\n\nWrites a synthetic Nix flake monorepo into DIR, which must be empty or new.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	repo, err := genrepo.GenerateContext(ctx, flag.Arg(0), opt)
	if err != nil {
		fmt.Fprintf(os.Stderr, "genrepo: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d components, %d Nix files, %d other files in %.2fs\n",
		repo.Root, len(repo.Components), repo.NixFiles, repo.NonNixFiles, time.Since(start).Seconds())
}
