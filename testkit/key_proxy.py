"""A reverse proxy on 127.0.0.1 that adds the API key to every request, for clients that cannot
send a header (the MCP conformance suite), in front of `mcpctl dev` or anything else over
plain HTTP/1.1.

    MCPCTL_API_KEY=KEY python3 testkit/key_proxy.py --upstream http://127.0.0.1:8080 [--port 0]
        [--header x-api-key | --bearer] [--log]

Prints `key proxy listening on http://127.0.0.1:PORT -> UPSTREAM` on stdout once it accepts
connections. Each client connection gets its own upstream connection. Every request head is
passed on as it came (request line, header order, case and spacing, Host included) with one
line added at its end, `x-api-key: KEY` (or `Authorization: Bearer KEY` with --bearer); a
header of that name the client sent is dropped, so the upstream never sees two. Request bodies
(Content-Length or chunked, chunk framing kept) and everything the upstream sends back go
through byte for byte as they arrive, so streamed responses (SSE) stream. Keep-alive and
pipelined requests work: the proxy reads the request framing only to find where the next head
starts. Standard library only; the key comes from the environment, never from argv.

Bounds: a head over 64 KiB closes the connection; a connection idle for IDLE_TIMEOUT_S in
either direction is closed. `--log` prints one line per request on stderr (method, target,
MCP-Protocol-Version and Mcp-Method headers), never the key.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024
IDLE_TIMEOUT_S = 120.0
CHUNK = 64 * 1024


class Closed(Exception):
    """The client closed its side (or sent something that is not HTTP/1.x)."""


class Reader:
    """Buffered reads from a socket that hand back the exact bytes read."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def _fill(self) -> bool:
        data = self.sock.recv(CHUNK)
        if not data:
            return False
        self.buf += data
        return True

    def until(self, marker: bytes, limit: int) -> bytes:
        """Bytes up to and including `marker`; b"" on EOF before any byte."""
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise Closed("head too large")
            if not self._fill():
                if self.buf:
                    raise Closed("EOF inside a head")
                return b""
        end = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:end], self.buf[end:]
        return out

    def pieces(self, n: int):
        """Exactly `n` bytes, yielded as they arrive."""
        while n > 0:
            if not self.buf and not self._fill():
                raise Closed("EOF inside a body")
            piece, self.buf = self.buf[:n], self.buf[n:]
            n -= len(piece)
            yield piece


def header_lines(head: bytes) -> list[bytes]:
    """The header lines of a request head (without the request line and the blank line)."""
    return head[:-4].split(b"\r\n")[1:]


def header_value(lines: list[bytes], name: bytes) -> bytes | None:
    for line in lines:
        field, sep, value = line.partition(b":")
        if sep and field.strip().lower() == name:
            return value.strip()
    return None


def rewrite_head(head: bytes, name: bytes, added: bytes) -> bytes:
    """The head with every `name` header dropped and `added` appended as its last header."""
    lines = head[:-4].split(b"\r\n")
    kept = [lines[0]] + [
        line for line in lines[1:] if line.partition(b":")[0].strip().lower() != name
    ]
    return b"\r\n".join(kept + [added]) + b"\r\n\r\n"


def forward_body(reader: Reader, lines: list[bytes], upstream: socket.socket) -> None:
    """Pass the body on exactly as framed: chunked (sizes, extensions, trailers) or sized."""
    encoding = header_value(lines, b"transfer-encoding")
    if encoding is not None and b"chunked" in encoding.lower():
        while True:
            size_line = reader.until(b"\r\n", MAX_HEAD)
            if not size_line:
                raise Closed("EOF inside a chunked body")
            upstream.sendall(size_line)
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then the empty line
                    trailer = reader.until(b"\r\n", MAX_HEAD)
                    if not trailer:
                        raise Closed("EOF inside trailers")
                    upstream.sendall(trailer)
                    if trailer == b"\r\n":
                        return
            for piece in reader.pieces(size + 2):  # the chunk and its CRLF
                upstream.sendall(piece)
    length = header_value(lines, b"content-length")
    if length:
        for piece in reader.pieces(int(length)):
            upstream.sendall(piece)


def close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def pump_back(upstream: socket.socket, client: socket.socket) -> None:
    """Upstream to client, byte for byte, as it arrives; then end the client connection."""
    try:
        while True:
            data = upstream.recv(CHUNK)
            if not data:
                break
            client.sendall(data)
    except OSError:
        pass
    finally:
        close(client)
        close(upstream)


def serve_connection(client: socket.socket, options: argparse.Namespace) -> None:
    client.settimeout(IDLE_TIMEOUT_S)
    try:
        upstream = socket.create_connection(options.upstream_addr, timeout=IDLE_TIMEOUT_S)
    except OSError as e:
        print(f"key proxy: cannot reach {options.upstream}: {e}", file=sys.stderr, flush=True)
        client.sendall(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        close(client)
        return
    upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    back = threading.Thread(target=pump_back, args=(upstream, client), daemon=True)
    back.start()
    reader = Reader(client)
    try:
        while True:
            head = reader.until(b"\r\n\r\n", MAX_HEAD)
            if not head:
                break
            lines = header_lines(head)
            if options.log:
                request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
                version = header_value(lines, b"mcp-protocol-version") or b"-"
                method = header_value(lines, b"mcp-method") or b"-"
                print(
                    f"key proxy: {request_line} mcp-protocol-version={version.decode('latin-1')}"
                    f" mcp-method={method.decode('latin-1')}",
                    file=sys.stderr,
                    flush=True,
                )
            upstream.sendall(rewrite_head(head, options.header_name, options.added))
            forward_body(reader, lines, upstream)
        upstream.shutdown(socket.SHUT_WR)  # the client is done sending; let responses finish
    except (Closed, OSError, ValueError):
        close(upstream)
    back.join(IDLE_TIMEOUT_S)
    close(client)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="http://HOST:PORT of the server")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--header", default="x-api-key", help="header to put the key in")
    parser.add_argument("--bearer", action="store_true", help="send Authorization: Bearer KEY")
    parser.add_argument("--log", action="store_true", help="one line per request on stderr")
    options = parser.parse_args()

    key = os.environ.get("MCPCTL_API_KEY", "")
    if not key or any(c in key for c in "\r\n"):
        print("key proxy: set MCPCTL_API_KEY to the key (one line)", file=sys.stderr)
        return 2
    url = urlsplit(options.upstream)
    if url.scheme != "http" or not url.hostname:
        print(f"key proxy: --upstream must be http://HOST:PORT, not {options.upstream}", file=sys.stderr)
        return 2
    options.upstream_addr = (url.hostname, url.port or 80)
    if options.bearer:
        options.header_name, options.added = b"authorization", f"Authorization: Bearer {key}".encode()
    else:
        name = options.header.strip()
        options.header_name, options.added = name.lower().encode(), f"{name}: {key}".encode()

    listener = socket.create_server(("127.0.0.1", options.port))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    port = listener.getsockname()[1]
    print(f"key proxy listening on http://127.0.0.1:{port} -> {options.upstream}", flush=True)
    while True:
        client, _ = listener.accept()
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve_connection, args=(client, options), daemon=True).start()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
