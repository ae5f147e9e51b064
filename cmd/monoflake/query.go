package main

import "context"

func runComponents(ctx context.Context, c *cli, args []string) int {
	c.stderr.Write([]byte("monoflake: this command is not built yet\n"))
	return exitUsage
}

func runCheck(ctx context.Context, c *cli, args []string) int {
	c.stderr.Write([]byte("monoflake: this command is not built yet\n"))
	return exitUsage
}

func runDefinition(ctx context.Context, c *cli, args []string) int {
	c.stderr.Write([]byte("monoflake: this command is not built yet\n"))
	return exitUsage
}

func runReferences(ctx context.Context, c *cli, args []string) int {
	c.stderr.Write([]byte("monoflake: this command is not built yet\n"))
	return exitUsage
}

func runSymbols(ctx context.Context, c *cli, args []string) int {
	c.stderr.Write([]byte("monoflake: this command is not built yet\n"))
	return exitUsage
}

func runGraph(ctx context.Context, c *cli, args []string) int {
	c.stderr.Write([]byte("monoflake: this command is not built yet\n"))
	return exitUsage
}

func runAffected(ctx context.Context, c *cli, args []string) int {
	c.stderr.Write([]byte("monoflake: this command is not built yet\n"))
	return exitUsage
}
