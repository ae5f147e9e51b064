package lsp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/segmentio/encoding/json"
	"go.lsp.dev/jsonrpc2"
)

// DefaultMaxMessage bounds one message when Options.MaxMessage is zero. It
// is above the largest file analysis reads (analysis.MaxFileSize) plus JSON escaping.
const DefaultMaxMessage = 96 << 20

// maxHeaderLine bounds one header line, so a client that never sends a line
// break cannot make the server buffer without end.
const maxHeaderLine = 4096

const contentLength = "Content-Length:"

// stream frames JSON-RPC messages with Content-Length headers. Unlike
// jsonrpc2's own framing, where any bad message ends the connection, it
// answers a message that is not JSON-RPC with an error and reads on, skips
// messages above a size limit without holding them in memory, and finds the
// next header again after a body whose Content-Length was wrong.
type stream struct {
	conn io.ReadWriteCloser
	in   *bufio.Reader
	max  int64
	logf func(format string, args ...any)

	writeMu sync.Mutex
}

func newStream(conn io.ReadWriteCloser, max int64, logf func(string, ...any)) *stream {
	if max <= 0 {
		max = DefaultMaxMessage
	}
	return &stream{conn: conn, in: bufio.NewReaderSize(conn, 64<<10), max: max, logf: logf}
}

// Read returns the next message that decodes. Only a broken connection (or
// a header that cannot be found again) is an error, which ends the server.
func (s *stream) Read(ctx context.Context) (jsonrpc2.Message, int64, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		length, err := s.readHeader()
		if err != nil {
			return nil, 0, err
		}
		if length > s.max {
			s.logf("skipping a message of %d bytes, larger than the %d bytes the server reads", length, s.max)
			if _, err := io.CopyN(io.Discard, s.in, length); err != nil {
				return nil, 0, fmt.Errorf("read message body: %w", err)
			}
			s.replyError(nil, jsonrpc2.InvalidRequest, fmt.Sprintf("message of %d bytes is larger than the %d bytes the server reads", length, s.max))
			continue
		}
		data := make([]byte, length)
		if _, err := io.ReadFull(s.in, data); err != nil {
			return nil, 0, fmt.Errorf("read message body: %w", err)
		}
		msg, err := jsonrpc2.DecodeMessage(data)
		if err != nil {
			s.logf("cannot decode a message: %v", err)
			s.replyError(requestID(data), jsonrpc2.ParseError, "the message is not valid JSON-RPC: "+err.Error())
			continue
		}
		return msg, length, nil
	}
}

// readHeader reads header lines up to the blank line and returns the
// Content-Length. Garbage before a header (the tail of a body whose length
// was understated) is skipped up to the next "Content-Length:".
func (s *stream) readHeader() (int64, error) {
	length := int64(-1)
	for {
		line, err := s.readLine()
		if err != nil {
			return 0, err
		}
		if line == "" {
			if length >= 0 {
				return length, nil
			}
			continue // stray blank lines between messages
		}
		if i := strings.Index(line, contentLength); i > 0 && length < 0 {
			s.logf("skipping %d bytes before a header", i)
			line = line[i:]
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			if length < 0 {
				s.logf("skipping a line that is not a header")
				continue
			}
			return 0, fmt.Errorf("invalid header line %q", truncate(line, 80))
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
			if err != nil || n <= 0 {
				s.logf("ignoring an invalid Content-Length %q", truncate(value, 40))
				length = -1
				continue
			}
			length = n
		}
	}
}

// readLine reads one header line without its line break.
func (s *stream) readLine() (string, error) {
	var buf []byte
	for {
		part, err := s.in.ReadSlice('\n')
		buf = append(buf, part...)
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(buf) > maxHeaderLine {
				// Not a header: drop it and look for the next one.
				buf = buf[len(buf)-len(contentLength):]
			}
			continue
		}
		return "", fmt.Errorf("read header: %w", err)
	}
	if len(buf) > maxHeaderLine {
		buf = buf[len(buf)-maxHeaderLine:]
	}
	return string(bytes.TrimRight(buf, "\r\n")), nil
}

// requestID finds the id of a message that failed to decode as JSON-RPC
// but is still JSON, so the client can match the error to its request.
func requestID(data []byte) json.RawMessage {
	var probe struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(data, &probe) != nil || len(probe.ID) == 0 {
		return nil
	}
	switch probe.ID[0] {
	case '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return probe.ID
	}
	return nil
}

// replyError writes an error response for a message the connection could
// not hand to the server; id nil means null.
func (s *stream) replyError(id json.RawMessage, code jsonrpc2.Code, message string) {
	if id == nil {
		id = json.RawMessage("null")
	}
	data, err := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   jsonrpc2.Error  `json:"error"`
	}{"2.0", id, jsonrpc2.Error{Code: code, Message: message}})
	if err == nil {
		_, _ = s.writeData(data)
	}
}

// Write writes one message.
func (s *stream) Write(ctx context.Context, msg jsonrpc2.Message) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return 0, fmt.Errorf("marshal message: %w", err)
	}
	return s.writeData(data)
}

func (s *stream) writeData(data []byte) (int64, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	// One write per message, so a message is never interleaved and a pipe
	// sees it whole.
	frame := make([]byte, 0, len(data)+32)
	frame = append(frame, "Content-Length: "...)
	frame = strconv.AppendInt(frame, int64(len(data)), 10)
	frame = append(frame, "\r\n\r\n"...)
	frame = append(frame, data...)
	n, err := s.conn.Write(frame)
	if err != nil {
		return int64(n), fmt.Errorf("write message: %w", err)
	}
	return int64(n), nil
}

// Close closes the connection.
func (s *stream) Close() error { return s.conn.Close() }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
