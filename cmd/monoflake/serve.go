package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/monoflake/monoflake/evalcache"
	"github.com/monoflake/monoflake/lsp"
)

// runServe runs the language server on stdio, or on one TCP connection
// (loopback only) for debugging with --listen.
func runServe(ctx context.Context, c *cli, args []string) int {
	fs := newFlagSet(c, "serve")
	listen := fs.String("listen", "", "serve one client on this loopback TCP `ADDR` instead of stdio")
	logPath := fs.String("log", "", "append a log of everything the server does to `FILE`")
	if code, done := fs.parse(args, 0); done {
		return code
	}
	opt := lsp.Options{Version: version, Index: c.index()}
	if opt.Version == "" {
		opt.Version = "devel"
	}
	if *logPath != "" {
		f, err := os.OpenFile(*logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(c.stderr, "monoflake: cannot open the log file: %v\n", err)
			return exitUsage
		}
		defer f.Close()
		opt.Log = f
	}
	// Without a cache the server still does everything static.
	if cache, err := evalcache.Open(cacheOptions(c, opt.Log)); err != nil {
		fmt.Fprintf(c.stderr, "monoflake: devShell environments are not available: %v\n", err)
	} else {
		defer cache.Close()
		opt.Cache = cache
	}
	conn, err := connect(ctx, c, *listen)
	if err != nil {
		fmt.Fprintf(c.stderr, "monoflake: %v\n", err)
		return exitUsage
	}
	err = lsp.Serve(ctx, conn, opt)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, lsp.ErrExitWithoutShutdown):
		return exitFindings
	}
	fmt.Fprintf(c.stderr, "monoflake: %v\n", err)
	return exitFindings
}

// connect returns the connection to serve: stdio, or the first client of a
// loopback listener.
func connect(ctx context.Context, c *cli, addr string) (io.ReadWriteCloser, error) {
	if addr == "" {
		return newStdio(c.stdin, c.stdout), nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("invalid --listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("--listen serves loopback addresses only, not %q", host)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	defer l.Close()
	fmt.Fprintf(c.stderr, "monoflake: listening on %s\n", l.Addr())
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	conn, err := l.Accept()
	if err != nil {
		return nil, fmt.Errorf("accept a client: %w", err)
	}
	return conn, nil
}

// stdio joins stdin and stdout into one connection. Reads go through a
// pipe so that closing the connection ends a read blocked on stdin at
// once, which closing os.Stdin itself does not.
type stdio struct {
	r *io.PipeReader
	w io.Writer
}

func newStdio(in io.Reader, out io.Writer) *stdio {
	r, w := io.Pipe()
	go func() {
		_, err := io.Copy(w, in)
		w.CloseWithError(err)
	}()
	return &stdio{r: r, w: out}
}

func (s *stdio) Read(p []byte) (int, error)  { return s.r.Read(p) }
func (s *stdio) Write(p []byte) (int, error) { return s.w.Write(p) }
func (s *stdio) Close() error                { return s.r.Close() }
