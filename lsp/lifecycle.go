package lsp

import (
	"context"
	"path/filepath"
	"slices"

	"github.com/segmentio/encoding/json"
	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// initializeParams is the part of InitializeParams the server reads. The
// options are decoded separately so a malformed options object costs the
// options, not the session.
type initializeParams struct {
	RootURI          protocol.DocumentURI       `json:"rootUri"`
	RootPath         string                     `json:"rootPath"`
	WorkspaceFolders []protocol.WorkspaceFolder `json:"workspaceFolders"`
	Options          json.RawMessage            `json:"initializationOptions"`
	Capabilities     struct {
		Window struct {
			WorkDoneProgress bool `json:"workDoneProgress"`
		} `json:"window"`
		Workspace struct {
			DidChangeWatchedFiles struct {
				DynamicRegistration bool `json:"dynamicRegistration"`
			} `json:"didChangeWatchedFiles"`
			WorkspaceEdit struct {
				ResourceOperations []string `json:"resourceOperations"`
			} `json:"workspaceEdit"`
			CodeLens struct {
				RefreshSupport bool `json:"refreshSupport"`
			} `json:"codeLens"`
		} `json:"workspace"`
	} `json:"capabilities"`
}

func (s *server) initialize(ctx context.Context, raw json.RawMessage) (any, error) {
	if s.state.Load() != stateNew {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidRequest, "initialize was already sent")
	}
	var p initializeParams
	if err := decodeParams(raw, &p); err != nil {
		return nil, err
	}
	var opts InitializationOptions
	if len(p.Options) > 0 && string(p.Options) != "null" {
		if err := json.Unmarshal(p.Options, &opts); err != nil {
			s.logf("ignoring initializationOptions: %v", err)
		}
	}
	s.client.Store(&clientInfo{
		workDoneProgress: p.Capabilities.Window.WorkDoneProgress,
		watchFiles:       p.Capabilities.Workspace.DidChangeWatchedFiles.DynamicRegistration,
		createFiles:      slices.Contains(p.Capabilities.Workspace.WorkspaceEdit.ResourceOperations, "create"),
		lensRefresh:      p.Capabilities.Workspace.CodeLens.RefreshSupport,
		init:             opts,
	})
	s.envs.Configure(opts)
	s.configureDiagnostics(opts.Diagnostics)

	for _, dir := range workspaceDirs(p) {
		s.session.addFolder(dir)
	}
	s.state.Store(stateRunning)
	return &protocol.InitializeResult{
		Capabilities: s.capabilities(),
		ServerInfo:   &protocol.ServerInfo{Name: "monoflake", Version: s.opt.Version},
	}, nil
}

// workspaceDirs lists the folders of the session: every workspace folder,
// else the root URI, else the deprecated root path.
func workspaceDirs(p initializeParams) []string {
	var dirs []string
	for _, f := range p.WorkspaceFolders {
		if d, err := uriToPath(protocol.DocumentURI(f.URI)); err == nil {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) > 0 {
		return dirs
	}
	if p.RootURI != "" {
		if d, err := uriToPath(p.RootURI); err == nil {
			return []string{d}
		}
	}
	if p.RootPath != "" && filepath.IsAbs(p.RootPath) {
		return []string{filepath.Clean(p.RootPath)}
	}
	return nil
}

func (s *server) capabilities() protocol.ServerCapabilities {
	return protocol.ServerCapabilities{
		TextDocumentSync: &protocol.TextDocumentSyncOptions{
			OpenClose: true,
			Change:    protocol.TextDocumentSyncKindIncremental,
			Save:      &protocol.SaveOptions{},
		},
		DefinitionProvider:      true,
		ReferencesProvider:      true,
		HoverProvider:           true,
		DocumentSymbolProvider:  true,
		WorkspaceSymbolProvider: true,
		CompletionProvider:      &protocol.CompletionOptions{TriggerCharacters: []string{".", "/"}},
		RenameProvider:          &protocol.RenameOptions{PrepareProvider: true},
		DocumentLinkProvider:    &protocol.DocumentLinkOptions{},
		CodeLensProvider:        &protocol.CodeLensOptions{},
		CodeActionProvider:      &protocol.CodeActionOptions{CodeActionKinds: []protocol.CodeActionKind{quickFix}},
		ExecuteCommandProvider:  &protocol.ExecuteCommandOptions{Commands: commands()},
		Workspace: &protocol.ServerCapabilitiesWorkspace{
			WorkspaceFolders: &protocol.ServerCapabilitiesWorkspaceFolders{Supported: true, ChangeNotifications: true},
		},
	}
}

func (s *server) initialized(ctx context.Context, _ json.RawMessage) error {
	if s.client.Load().watchFiles {
		s.bg.Go(s.registerWatchers)
	}
	s.bg.Go(s.session.reportIndexing)
	return nil
}

func (s *server) shutdown(ctx context.Context, _ json.RawMessage) (any, error) {
	s.state.Store(stateShutdown)
	s.logf("shutdown")
	return nil, nil
}

// didChangeConfiguration takes the settings under "monoflake" that can
// change during a session; the others need a new session.
func (s *server) didChangeConfiguration(ctx context.Context, raw json.RawMessage) error {
	var p struct {
		Settings struct {
			Monoflake struct {
				Diagnostics DiagnosticsSettings `json:"diagnostics"`
			} `json:"monoflake"`
		} `json:"settings"`
	}
	if err := decodeParams(raw, &p); err != nil {
		return err
	}
	s.configureDiagnostics(p.Settings.Monoflake.Diagnostics)
	return nil
}

// configureDiagnostics applies diagnostics settings; one left out keeps
// its value.
func (s *server) configureDiagnostics(d DiagnosticsSettings) {
	if d.Syntax != nil && s.syntax.Swap(*d.Syntax) != *d.Syntax {
		s.logf("syntax diagnostics: %v", *d.Syntax)
		// The workspace-wide pass that follows republishes what changed.
		s.diagnosticsChanged()
	}
}
