package main

import "context"

func runServe(ctx context.Context, c *cli, args []string) int {
	c.stderr.Write([]byte("monoflake: this command is not built yet\n"))
	return exitUsage
}
