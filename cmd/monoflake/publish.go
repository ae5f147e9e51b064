package main

import (
	"context"
	"fmt"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/evalcache"
)

// runPublish is CI's side of the team cache: evaluate (or reuse) each
// devShell and publish it with its closure and the commit's index.
func runPublish(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "publish")
	to := fs.String("to", "", "the binary cache `URL` to publish to, as nix copy --to takes it (required)")
	keyFile := fs.String("secret-key-file", "", "the signing key `FILE` from nix-store --generate-binary-cache-key (required)")
	if code, done := fs.parse(args, anyNumber); done {
		return code
	}
	if *to == "" || *keyFile == "" {
		return fs.usageError("--to URL and --secret-key-file FILE are required")
	}
	paths := fs.Args()
	dir := "."
	if len(paths) > 0 {
		dir = paths[0]
	}
	s, ok := load(ctx, c, dir)
	if !ok {
		return exitUsage
	}
	reqs, errs := publishRequests(s, paths)
	for _, err := range errs {
		fmt.Fprintf(c.stderr, "monoflake: skipped: %v\n", err)
	}
	if len(reqs) == 0 {
		fmt.Fprintln(c.stderr, "monoflake: no devShell to publish")
		return exitFindings
	}
	// The pruning check runs in this process: publishing waits for it.
	cache, err := evalcache.Open(evalcache.Options{Getenv: c.getenv, Log: evalLog(c)})
	if err != nil {
		fmt.Fprintf(c.stderr, "monoflake: %v\n", err)
		return exitUsage
	}
	defer cache.CloseContext(ctx)
	pub, err := cache.Publish(ctx, reqs, evalcache.PublishOptions{To: *to, SecretKeyFile: *keyFile})
	if err != nil {
		fmt.Fprintf(c.stderr, "monoflake: publish: %v\n", err)
		return exitFindings
	}
	code := exitOK
	if len(errs) > 0 {
		code = exitFindings
	}
	for _, p := range pub.Shells {
		switch {
		case p.Skipped != "":
			fmt.Fprintf(c.stderr, "monoflake: skipped %s: %s\n", p.Request.Component, p.Skipped)
			code = exitFindings
		case p.Reused:
			fmt.Fprintf(c.stdout, "in the cache already: %s %s\n", p.Request.Component, p.Record)
		default:
			fmt.Fprintf(c.stdout, "published %s %s\n", p.Request.Component, p.Record)
		}
	}
	if pub.Index != "" {
		fmt.Fprintf(c.stdout, "published the index of %s %s\n", pub.Commit, pub.Index)
	} else {
		fmt.Fprintf(c.stderr, "monoflake: no index published: %s\n", pub.NoIndex)
	}
	return code
}

// publishRequests plans the devShells of paths, or of every component.
func publishRequests(s *analysis.Snapshot, paths []string) ([]evalcache.Request, []error) {
	if len(paths) == 0 {
		return evalcache.PlanAll(s, evalcache.Scoped)
	}
	var reqs []evalcache.Request
	var errs []error
	for _, p := range paths {
		req, err := evalcache.Plan(s, p, "", evalcache.Scoped)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		reqs = append(reqs, req)
	}
	return reqs, errs
}
