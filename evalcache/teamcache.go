package evalcache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/monoflake/monoflake/evalcache/binarycache"
)

// teamCache is the binary cache a repository's .monoflake.json names, as
// monoflake probes and reads it. Go reads a folder or a web server itself,
// which costs no nix process; any other cache (s3://, ssh://) and a
// compressed NAR are read through nix. Nothing read here is trusted: it
// chooses what to ask nix for, and nix checks signatures.
type teamCache struct {
	url    string              // as configured, nix's settings included
	reader *binarycache.Reader // nil when only nix can read the cache
	run    runner
}

// teamCache opens the cache at url for reading.
func (c *Cache) teamCache(url string) teamCache {
	t := teamCache{url: url, run: c.run}
	if r, err := binarycache.NewReader(url, c.http); err == nil {
		t.reader = r
	}
	return t
}

// newHTTPClient is the client of HTTP caches: a cache that does not
// answer within the timeout is a cache that is down, and one that cannot
// be reached within seconds is not worth waiting for before evaluating.
func newHTTPClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = (&net.Dialer{Timeout: connectTimeout}).DialContext
	return &http.Client{Timeout: probeTimeout, Transport: transport}
}

// has reports whether the cache holds a store path. The error is for a
// cache that cannot say: down, refusing, misconfigured.
func (t teamCache) has(ctx context.Context, storePath string) (bool, error) {
	ok, _, err := t.probe(ctx, storePath)
	return ok, err
}

// probe is has that also returns the references the cache claims for the
// path, when Go read its narinfo (nil otherwise): unchecked, a guess of
// what nix will fetch.
func (t teamCache) probe(ctx context.Context, storePath string) (bool, []string, error) {
	if t.reader != nil {
		n, err := t.reader.NarInfo(ctx, storePath)
		switch {
		case errors.Is(err, binarycache.ErrNotFound):
			return false, nil, nil
		case err != nil:
			return false, nil, err
		}
		return true, n.References, nil
	}
	// nix remembers a missing path of an http or s3 cache for an hour,
	// unless told otherwise.
	out, err := t.run.run(ctx, "", "path-info", "--store", t.url, "--option", "narinfo-cache-negative-ttl", "0", storePath)
	if err == nil {
		return true, nil, nil
	}
	if bytes.Contains(out.Stderr, []byte("is not valid")) {
		return false, nil, nil
	}
	return false, nil, fmt.Errorf("%w: %s", err, lastLine(out.Stderr))
}

// read returns the contents of a store path of one file, at most limit
// bytes.
func (t teamCache) read(ctx context.Context, storePath string, limit int64) ([]byte, error) {
	if t.reader != nil {
		data, _, err := t.reader.ReadFile(ctx, storePath, limit)
		if !errors.Is(err, binarycache.ErrUnsupported) {
			return data, err
		}
	}
	out, err := t.run.run(ctx, "", "store", "cat", "--store", t.url, "--option", "narinfo-cache-negative-ttl", "0", storePath)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, lastLine(out.Stderr))
	}
	if int64(len(out.Stdout)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", storePath, limit)
	}
	return out.Stdout, nil
}
