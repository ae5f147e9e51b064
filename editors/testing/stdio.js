// Content-Length framing on stdin/stdout for the stand-in servers of the
// editor tests (fakeserver.js, otherserver.js): no dependencies, so any
// editor test can run them.
'use strict';

/** Sends one JSON-RPC message. */
function send(message) {
  const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...message }), 'utf8');
  process.stdout.write(`Content-Length: ${body.length}\r\n\r\n`);
  process.stdout.write(body);
}

/** Calls handle with every message read from stdin; exits when it ends. */
function serve(handle) {
  let buffer = Buffer.alloc(0);
  process.stdin.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const headerEnd = buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) {
        return;
      }
      const match = /Content-Length: (\d+)/i.exec(buffer.subarray(0, headerEnd).toString('ascii'));
      const length = match ? Number(match[1]) : 0;
      if (buffer.length < headerEnd + 4 + length) {
        return;
      }
      const body = buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8');
      buffer = buffer.subarray(headerEnd + 4 + length);
      handle(JSON.parse(body));
    }
  });
  process.stdin.on('end', () => process.exit(0));
}

/** Answers what every stand-in answers alike: shutdown, exit, unknown methods. */
function standard({ id, method }) {
  switch (method) {
    case 'shutdown':
      return send({ id, result: null });
    case 'exit':
      return process.exit(0);
    default:
      if (id !== undefined && method !== undefined) {
        return send({ id, error: { code: -32601, message: `method not found: ${method}` } });
      }
  }
}

module.exports = { send, serve, standard };
