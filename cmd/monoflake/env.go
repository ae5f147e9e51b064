package main

import "context"

func runEnv(ctx context.Context, c *cli, args []string) int {
	c.stderr.Write([]byte("monoflake: this command is not built yet\n"))
	return exitUsage
}

func runShell(ctx context.Context, c *cli, args []string) int {
	c.stderr.Write([]byte("monoflake: this command is not built yet\n"))
	return exitUsage
}

func runTrust(ctx context.Context, c *cli, args []string) int {
	c.stderr.Write([]byte("monoflake: this command is not built yet\n"))
	return exitUsage
}
