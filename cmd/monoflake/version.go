package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// version is set at link time by the Makefile (-X main.version=...); the
// module's build information is the fallback for `go install` builds.
var version = ""

func runVersion(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "version")
	if code, done := fs.parse(args, 0); done {
		return code
	}
	v := version
	if v == "" {
		v = "devel"
		if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
	}
	fmt.Fprintf(c.stdout, "monoflake %s\n", v)
	return exitOK
}
