package lsp

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/segmentio/encoding/json"
	"go.lsp.dev/protocol"

	"github.com/monoflake/monoflake/analysis"
	"github.com/monoflake/monoflake/analysis/syntax"
)

// maxDocument bounds an editor buffer the server parses: the largest file
// analysis reads from disk, so the command line and the server skip the
// same files. A bigger buffer is left out of the model rather than
// stalling every keystroke.
const maxDocument = analysis.MaxFileSize

// document is an open editor buffer. Documents are replaced, never
// changed, so the publisher can read a version while the read loop edits.
type document struct {
	path    string
	uri     protocol.DocumentURI // as the client spelled it, for publishing back
	version int32
	doc     *syntax.Document
}

// onDisk reports whether the buffer holds what its file on disk holds.
func (d *document) onDisk() bool {
	data, err := os.ReadFile(d.path)
	return err == nil && bytes.Equal(data, d.doc.Tree.Src)
}

// isNixFile reports whether the server models a buffer: other languages
// opened in the same editor are none of its business.
func isNixFile(path string) bool { return strings.HasSuffix(path, ".nix") }

func (s *server) didOpen(ctx context.Context, raw json.RawMessage) error {
	if len(raw) > maxDocument+64<<10 {
		// Not worth decoding: the text alone is too large (escaping only
		// makes JSON longer than its text by a bounded amount for Nix).
		s.message(protocol.MessageTypeWarning, "monoflake ignores a document of %d MB, larger than the %d MB it reads", len(raw)>>20, maxDocument>>20)
		return nil
	}
	var p protocol.DidOpenTextDocumentParams
	if err := decodeParams(raw, &p); err != nil {
		return err
	}
	path, err := uriToPath(p.TextDocument.URI)
	if err != nil || !isNixFile(path) {
		return err
	}
	if len(p.TextDocument.Text) > maxDocument {
		s.message(protocol.MessageTypeWarning, "monoflake ignores %s: it is %d MB, larger than the %d MB it reads", path, len(p.TextDocument.Text)>>20, maxDocument>>20)
		return nil
	}
	s.session.open(path, p.TextDocument.URI, p.TextDocument.Version, p.TextDocument.Text)
	s.ensureEnvironment(path)
	return nil
}

// open makes text the buffer of path, opening the repository of a file
// outside every workspace folder when it is part of a flake.
func (s *session) open(path string, uri protocol.DocumentURI, version int32, text string) {
	d := &document{path: path, uri: uri, version: version, doc: s.parser.Open([]byte(text))}
	s.setDocument(s.workspaceForFile(path), d)
}

// setDocument makes d the buffer of its path and queues it for the
// snapshot of its workspace ws (if any); it frees the buffer it replaces.
func (s *session) setDocument(ws *workspace, d *document) {
	seq := s.changes.Add(1)
	s.mu.Lock()
	old := s.docs[d.path]
	s.docs[d.path] = d
	indexing := false
	if ws != nil {
		s.queueDocumentLocked(ws, d.path, d, seq)
		indexing = ws.snap == nil
	}
	s.mu.Unlock()
	if indexing {
		// No snapshot will wake the publisher before the index: it may
		// answer the buffer from the stored diagnostics meanwhile.
		s.out.diagnosticsChanged()
	}
	// The old buffer's tree may still be on its way into a snapshot, but
	// that Tree is Go memory; Close frees only the parser's copy, which
	// only the next edit of the current buffer needs.
	if old != nil && old.doc != d.doc {
		old.doc.Close()
	}
}

// contentChange is TextDocumentContentChangeEvent with an optional range:
// the protocol package's struct cannot tell a whole-text change from an
// insertion at the start of the file.
type contentChange struct {
	Range *protocol.Range `json:"range"`
	Text  string          `json:"text"`
}

type didChangeParams struct {
	TextDocument   protocol.VersionedTextDocumentIdentifier `json:"textDocument"`
	ContentChanges []contentChange                          `json:"contentChanges"`
}

func (s *server) didChange(ctx context.Context, raw json.RawMessage) error {
	var p didChangeParams
	path, cur, err := s.decodeDocument(raw, &p, &p.TextDocument.TextDocumentIdentifier)
	if err != nil {
		return err
	}
	if cur == nil {
		if isNixFile(path) {
			return fmt.Errorf("change of %s, which is not open", path)
		}
		return nil
	}
	if err := s.session.change(cur, p.TextDocument.Version, p.ContentChanges); err != nil {
		return fmt.Errorf("change of %s: %w", path, err)
	}
	return nil
}

// change applies an editor's changes to the buffer cur.
func (s *session) change(cur *document, version int32, changes []contentChange) error {
	next, err := s.edit(cur.doc, changes)
	if err != nil {
		return err
	}
	s.setDocument(s.workspaceFor(cur.path), &document{path: cur.path, uri: cur.uri, version: version, doc: next})
	return nil
}

// edit applies LSP content changes, each against the text the previous one
// produced, and reparses once, incrementally.
func (s *session) edit(doc *syntax.Document, changes []contentChange) (*syntax.Document, error) {
	src := doc.Tree.Src
	var edits []syntax.Change
	for _, c := range changes {
		if c.Range == nil {
			// A whole new text: nothing of the old tree can be reused.
			if len(c.Text) > maxDocument {
				return nil, fmt.Errorf("the new text is %d MB, larger than the %d MB the server reads", len(c.Text)>>20, maxDocument>>20)
			}
			src, edits = []byte(c.Text), nil
			doc = nil
			continue
		}
		lines := syntax.NewLines(src)
		start, end := toOffset(lines, c.Range.Start), toOffset(lines, c.Range.End)
		if start > end {
			start, end = end, start
		}
		if len(src)-(end-start)+len(c.Text) > maxDocument {
			return nil, fmt.Errorf("the edit would make the buffer larger than the %d MB the server reads", maxDocument>>20)
		}
		edits = append(edits, syntax.Change{Start: start, End: end, Text: []byte(c.Text)})
		next := make([]byte, 0, len(src)-(end-start)+len(c.Text))
		src = append(append(append(next, src[:start]...), c.Text...), src[end:]...)
	}
	if doc == nil {
		return s.parser.Open(src), nil
	}
	return s.parser.Edit(doc, edits...)
}

func (s *server) didClose(ctx context.Context, raw json.RawMessage) error {
	var p protocol.DidCloseTextDocumentParams
	_, cur, err := s.decodeDocument(raw, &p, &p.TextDocument)
	if err != nil || cur == nil {
		return err
	}
	s.session.closeDocument(cur)
	return nil
}

// closeDocument forgets the buffer cur: the file on disk takes over, or
// leaves the model when the buffer was never saved.
func (s *session) closeDocument(cur *document) {
	ws := s.workspaceFor(cur.path)
	seq := s.changes.Add(1)
	s.mu.Lock()
	delete(s.docs, cur.path)
	if ws != nil {
		s.queueDocumentLocked(ws, cur.path, nil, seq)
	}
	s.mu.Unlock()
	cur.doc.Close()
}

// decodeDocument decodes the params of a notification about a document
// into params (whose document identifier is id) and returns its path and
// open buffer, nil when it is not open.
func (s *server) decodeDocument(raw json.RawMessage, params any, id *protocol.TextDocumentIdentifier) (string, *document, error) {
	if err := decodeParams(raw, params); err != nil {
		return "", nil, err
	}
	path, err := uriToPath(id.URI)
	if err != nil {
		return "", nil, err
	}
	return path, s.session.Document(path), nil
}
