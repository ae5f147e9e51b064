package main

import "context"

func runDirenvrc(ctx context.Context, c *cli, args []string) int {
	c.stderr.Write([]byte("monoflake: this command is not built yet\n"))
	return exitUsage
}

func runInit(ctx context.Context, c *cli, args []string) int {
	c.stderr.Write([]byte("monoflake: this command is not built yet\n"))
	return exitUsage
}

func runDirenvExport(ctx context.Context, c *cli, args []string) int {
	c.stderr.Write([]byte("monoflake: this command is not built yet\n"))
	return exitUsage
}
