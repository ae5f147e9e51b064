package evalcache

import (
	"context"
	"errors"
	"fmt"
	"github.com/monoflake/monoflake/analysis/indexcache"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/sourcegraph/conc"
)

// DefaultTimeout bounds one nix process unless Options.Timeout or
// $MONOFLAKE_EVAL_TIMEOUT says otherwise.
const DefaultTimeout = 10 * time.Minute

// TimeoutVariable names the environment variable that sets the evaluation
// timeout for every surface (command line, direnv, language server).
const TimeoutVariable = "MONOFLAKE_EVAL_TIMEOUT"

// Cache evaluates devShells and remembers their environments on disk. One
// Cache is safe for concurrent use, and several processes (the server, the
// direnv hook, a second editor) may share its folder.
type Cache struct {
	layout
	// index is the model's persistent index, in the same cache folder:
	// planning a miss reads what changed, not the repository.
	index   *indexcache.Store
	dataDir string
	nix     string
	run     runner
	http    *http.Client // reads team caches served over HTTP
	log     *slog.Logger
	getenv  func(string) string
	maxAge  time.Duration
	maxSize int64
	// settle is how long Trim leaves unreferenced environments and GC
	// roots alone: another process may be evaluating the entry that will
	// refer to them.
	settle time.Duration

	sem          chan struct{} // bounds concurrent evaluations
	ifd          bool          // allow import from derivation
	checkCommand []string      // starts a detached pruning check; nil checks in bg

	// bg owns background work (pruning checks without a CheckCommand);
	// Close waits for it.
	bg       conc.WaitGroup
	bgCtx    context.Context
	bgCancel context.CancelFunc

	mu      sync.Mutex
	flights map[string]*flight
	version string // nix's, once known
}

// Open prepares the cache folder. It does not run nix, so a cache hit never
// pays for starting it.
func Open(opts Options) (*Cache, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	dir, err := cacheDir(opts.Dir, getenv)
	if err != nil {
		return nil, err
	}
	dataDir, err := dataDir(opts.DataDir, getenv)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create the cache folder: %w", err)
	}
	nix := opts.Nix
	if nix == "" {
		nix = "nix"
	}
	timeout, err := evalTimeout(opts.Timeout, getenv)
	if err != nil {
		return nil, err
	}
	parallel := opts.MaxParallel
	if parallel <= 0 {
		parallel = 4
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	c := &Cache{
		layout:  layout{dir: dir},
		dataDir: dataDir, nix: nix,
		run:          runner{nix: nix, timeout: timeout},
		http:         newHTTPClient(),
		log:          slog.New(slog.NewTextHandler(logw, nil)),
		getenv:       getenv,
		maxAge:       orDefault(opts.MaxAge, 30*24*time.Hour),
		maxSize:      opts.MaxSize,
		settle:       timeout,
		sem:          make(chan struct{}, parallel),
		ifd:          opts.AllowImportFromDerivation,
		checkCommand: opts.CheckCommand,
		flights:      map[string]*flight{},
	}
	if c.maxSize == 0 {
		c.maxSize = 512 << 20
	}
	c.bgCtx, c.bgCancel = context.WithCancel(context.Background())
	if err := c.writeHelper(); err != nil {
		return nil, err
	}
	// Without the model's index every miss reads the whole repository;
	// that costs time, not answers, so a failure here is not one.
	c.index, _ = indexcache.Open(indexcache.Dir(dir))
	return c, nil
}

// evalTimeout is the configured timeout of one nix process.
func evalTimeout(d time.Duration, getenv func(string) string) (time.Duration, error) {
	if d != 0 {
		return d, nil
	}
	v := getenv(TimeoutVariable)
	if v == "" {
		return DefaultTimeout, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%s is not a duration such as 90s or 20m", TimeoutVariable, v)
	}
	return d, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func cacheDir(dir string, getenv func(string) string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	return indexcache.DefaultCacheDir(getenv)
}

func dataDir(dir string, getenv func(string) string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	if d := xdgDataHome(getenv); d != "" {
		return filepath.Join(d, "monoflake"), nil
	}
	return "", errors.New("cannot find a data folder: set XDG_DATA_HOME or HOME")
}

func xdgDataHome(getenv func(string) string) string {
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return d
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "share")
	}
	return ""
}

// Close waits for background work (pruning checks run in this process).
func (c *Cache) Close() error {
	return c.CloseContext(context.Background())
}

// CloseContext is Close for a caller that may be interrupted: it waits for
// background work until ctx ends, then cancels what is left, killing its
// nix processes, and waits for that. With a CheckCommand there is no such
// work: checks run in processes of their own.
func (c *Cache) CloseContext(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		c.bg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	c.bgCancel()
	<-done
	return nil
}

// Dir is the cache folder.
func (c *Cache) Dir() string { return c.dir }

// CurrentSystem is the Nix system of this machine, such as x86_64-linux.
func CurrentSystem() string {
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "riscv64": "riscv64"}[runtime.GOARCH]
	if arch == "" {
		arch = runtime.GOARCH
	}
	return arch + "-" + runtime.GOOS
}

func normalize(req Request) (Request, error) {
	if req.System == "" {
		req.System = CurrentSystem()
	}
	if req.Mode == "" {
		req.Mode = Scoped
	}
	if req.Shell == "" {
		return req, errors.New("no devShell named for the component")
	}
	if !filepath.IsAbs(req.Root) {
		return req, fmt.Errorf("repository root %q is not absolute", req.Root)
	}
	if req.ComponentDir == "" {
		req.ComponentDir = req.Root
	}
	req.Root, req.ComponentDir = filepath.Clean(req.Root), filepath.Clean(req.ComponentDir)
	return req, nil
}
