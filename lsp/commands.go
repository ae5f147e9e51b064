package lsp

import (
	"context"

	"github.com/segmentio/encoding/json"
	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// Commands the server executes through workspace/executeCommand.
const (
	CommandReloadEnvironment = "monoflake.reloadEnvironment"
	CommandTrustWorkspace    = "monoflake.trustWorkspace"
	// CommandGitAdd adds a file to git's index: the fix of untracked-path.
	CommandGitAdd = "monoflake.gitAdd"
)

// commands lists what executeCommand runs, as advertised in initialize.
func commands() []string {
	return []string{CommandReloadEnvironment, CommandTrustWorkspace, CommandGitAdd}
}

func (s *server) executeCommand(ctx context.Context, raw json.RawMessage) (any, error) {
	var p struct {
		Command   string   `json:"command"`
		Arguments []string `json:"arguments"`
	}
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	if len(p.Arguments) != 1 {
		return nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "%s takes one argument, a URI", p.Command)
	}
	path, err := uriToPath(protocol.DocumentURI(p.Arguments[0]))
	if err != nil {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, err.Error())
	}
	switch p.Command {
	case CommandGitAdd:
		return nil, s.trackFile(ctx, path)
	case CommandTrustWorkspace:
		return nil, s.trustWorkspace(path)
	case CommandReloadEnvironment:
		return nil, s.reloadEnvironment(ctx, path)
	}
	return nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "unknown command %q", p.Command)
}

// errNoCache is the answer to an evaluation command without an evaluation
// cache.
var errNoCache = jsonrpc2.NewError(codeRequestFailed, "monoflake cannot evaluate here: the evaluation cache is not available")

// trustWorkspace trusts the repository at root, then evaluates the
// components of the files open in it.
func (s *server) trustWorkspace(root string) error {
	if s.opt.Cache == nil {
		return errNoCache
	}
	if err := s.opt.Cache.Trust(root); err != nil {
		return jsonrpc2.NewError(codeRequestFailed, err.Error())
	}
	for _, p := range s.session.OpenBelow(root) {
		s.ensureEnvironment(p)
	}
	return nil
}

// reloadEnvironment evaluates the component of path again.
func (s *server) reloadEnvironment(ctx context.Context, path string) error {
	if s.opt.Cache == nil {
		return errNoCache
	}
	snap, err := s.session.SnapshotOpening(ctx, path)
	if err != nil {
		return err
	}
	if snap == nil {
		return jsonrpc2.Errorf(codeRequestFailed, "%s is not inside a flake", path)
	}
	_, res, err := s.envs.Get(snap, path, reload)
	switch {
	case err != nil:
		return jsonrpc2.NewError(codeRequestFailed, err.Error())
	case res == nil:
		return jsonrpc2.NewError(codeRequestFailed, "monoflake does not evaluate: evaluation is turned off in the editor's settings")
	}
	return nil
}

// trackFile adds path to git's index, then indexes its repository again:
// what git tracks decides what flake evaluation sees.
func (s *server) trackFile(ctx context.Context, path string) error {
	if err := gitAdd(ctx, path); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return jsonrpc2.NewError(codeRequestFailed, err.Error())
	}
	s.session.Reindex(path)
	return nil
}
