package lsp

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/segmentio/encoding/json"
	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/direnv"
)

// The protocol's side of the environments (environments.go): the server
// evaluates the component of an opened file in the background (only in a
// trusted repository), reports the state in code lenses, hovers,
// monoflake/environment and monoflake/environmentChanged, and publishes
// evaluation errors as diagnostics in the file nix names. Everything
// static keeps working when there is no cache, no nix, or no trust.

// ensureEnvironment starts evaluating the component of an opened file
// when the session may; it runs in the background.
func (s *server) ensureEnvironment(path string) {
	if !s.envs.Enabled() {
		return
	}
	s.bg.Go(func() {
		snap, err := s.session.Snapshot(s.ctx, path)
		if snap == nil || err != nil || snap.ComponentOf(path) == nil {
			// Shared files (flake.nix, libraries) have no devShell of
			// their own worth evaluating on open.
			return
		}
		if _, _, err := s.envs.Get(snap, path, check); err != nil {
			s.logf("no environment for %s: %v", path, err)
		}
	})
}

// environmentState is the state of a component's environment for its
// code lens.
func (s *server) environmentState(snap *analysis.Snapshot, component string) string {
	c := snap.Component(component)
	if c == nil {
		return stateNone
	}
	if _, res, err := s.envs.Get(snap, c.Dir, peek); err == nil && res != nil {
		return string(res.State)
	}
	return stateNone
}

// environmentHover describes what evaluation knows of a devShell output.
func (s *server) environmentHover(snap *analysis.Snapshot, o *analysis.Output) string {
	if o == nil || o.Category != analysis.DevShells {
		return ""
	}
	c := snap.Component(o.Component)
	if c == nil {
		return ""
	}
	env, ok := s.envs.known(c.Dir)
	if !ok || env.req.Shell != o.Name {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n\nEnvironment: %s", env.res.State)
	if e := env.res.Env; e != nil {
		if v, ok := e.Variables["name"]; ok && v.Value != "" {
			fmt.Fprintf(&b, ", derivation `%s`", v.Value)
		}
		var pkgs []string
		for _, name := range []string{"nativeBuildInputs", "buildInputs", "propagatedBuildInputs"} {
			for _, p := range strings.Fields(e.Variables[name].Value) {
				pkgs = append(pkgs, storeName(p))
			}
		}
		if len(pkgs) > 0 {
			fmt.Fprintf(&b, "\n\nPackages: `%s`", strings.Join(pkgs, "`, `"))
		}
	}
	if env.res.Err != nil {
		fmt.Fprintf(&b, "\n\nLast evaluation failed: %s", env.res.Err.Message)
	}
	return b.String()
}

// storeName strips the store directory and hash from a store path.
func storeName(p string) string {
	base := filepath.Base(p)
	if i := strings.IndexByte(base, '-'); i == 32 {
		return base[i+1:]
	}
	return base
}

// environmentResult is the answer to monoflake/environment; the editor
// extensions read exactly these names.
type environmentResult struct {
	Root      string            `json:"root"`
	Component *string           `json:"component"`
	Shell     *string           `json:"shell"`
	State     string            `json:"state"`
	Variables map[string]string `json:"variables"`
	Error     *string           `json:"error"`
}

func (s *server) environmentRequest(ctx context.Context, raw json.RawMessage) (any, error) {
	var p struct {
		URI protocol.DocumentURI `json:"uri"`
	}
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	path, err := uriToPath(p.URI)
	if err != nil {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, err.Error())
	}
	out := &environmentResult{Root: filepath.Dir(path), State: stateNone, Variables: map[string]string{}}
	snap, err := s.session.SnapshotOpening(ctx, path)
	if err != nil {
		return nil, err
	}
	if snap == nil {
		return out, nil
	}
	out.Root = snap.Root
	req, res, err := s.envs.Get(snap, path, current)
	if err != nil {
		msg := err.Error()
		out.Error = &msg
		return out, nil
	}
	out.Component, out.Shell = &req.Component, &req.Shell
	if res == nil {
		return out, nil
	}
	out.State = string(res.State)
	if res.Env != nil {
		// Filtered here, by the list direnv and `monoflake shell` use, so
		// that no editor keeps a copy of it.
		out.Variables = direnv.Applied(res.Env)
	}
	if res.Err != nil {
		msg := res.Err.Error()
		out.Error = &msg
	}
	return out, nil
}
