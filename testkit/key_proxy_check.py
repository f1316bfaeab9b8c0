"""Self-check for key_proxy.py: a raw-socket upstream on 127.0.0.1 records the exact bytes it
receives and answers scripted responses; raw-socket clients go through the proxy.

    python3 testkit/key_proxy_check.py

Checks: the head arrives as sent (request line, header order, case, spacing, Host) plus the key
as its last header, a client's own header of that name replaced; bodies byte for byte (sized
and chunked, chunk extensions and trailers kept); pipelined keep-alive requests each get the
key; a streamed response reaches the client while the upstream is still sending; bytes back
exactly as sent; --bearer; no key in the environment refuses to start. One line per check,
exit 1 if any failed. Every wait is bounded.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import key_proxy  # noqa: E402

PROXY = Path(__file__).resolve().with_name("key_proxy.py")
KEY = "proxy-check-key-0123456789"
TIMEOUT_S = 10.0
BINARY = bytes(range(256)) * 64


class Sink:
    """Collects what key_proxy.forward_body would send upstream."""

    def __init__(self) -> None:
        self.data = b""

    def sendall(self, data: bytes) -> None:
        self.data += data


class Upstream:
    """Raw HTTP/1.1 upstream: records (head, body) exactly; /echo answers them back."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.first_chunk_seen = threading.Event()
        self.stream_finished = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            conn, _ = self.listener.accept()
            conn.settimeout(TIMEOUT_S)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        reader = key_proxy.Reader(conn)
        try:
            while True:
                head = reader.until(b"\r\n\r\n", key_proxy.MAX_HEAD)
                if not head:
                    return
                sink = Sink()
                key_proxy.forward_body(reader, key_proxy.header_lines(head), sink)
                target = head.split(b" ")[1]
                if target.startswith(b"/stream"):
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                        b"transfer-encoding: chunked\r\n\r\n" + b"d\r\ndata: one\n\n\r\n"
                    )
                    # The rest only once the client has the first event through the proxy.
                    if not self.first_chunk_seen.wait(TIMEOUT_S):
                        return
                    conn.sendall(b"d\r\ndata: two\n\n\r\n0\r\n\r\n")
                    self.stream_finished.set()
                elif target.startswith(b"/binary"):
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(BINARY) + BINARY)
                else:
                    echo = head + sink.data
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(echo) + echo)
        except (OSError, key_proxy.Closed):
            return
        finally:
            conn.close()


def read_response(reader: key_proxy.Reader) -> bytes:
    """The body of one sized response."""
    head = reader.until(b"\r\n\r\n", key_proxy.MAX_HEAD)
    assert head.startswith(b"HTTP/1.1 200"), f"response head {head!r}"
    length = int(key_proxy.header_value(key_proxy.header_lines(head), b"content-length"))
    return b"".join(reader.pieces(length))


class Proxy:
    def __init__(self, upstream_port: int, *extra: str) -> None:
        env = dict(os.environ, MCPCTL_API_KEY=KEY)
        self.process = subprocess.Popen(
            [sys.executable, str(PROXY), "--upstream", f"http://127.0.0.1:{upstream_port}", *extra],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        line = self.process.stdout.readline()  # the proxy prints it at once, or exits
        assert line.startswith("key proxy listening on http://127.0.0.1:"), f"proxy said {line!r}"
        self.port = int(line.split("http://127.0.0.1:")[1].split()[0])

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT_S)
        return sock

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(TIMEOUT_S)


def main() -> int:
    upstream = Upstream()
    proxy = Proxy(upstream.port)
    bearer = Proxy(upstream.port, "--bearer")
    failed = 0

    def check(name: str, fn) -> None:
        nonlocal failed
        try:
            fn()
            print(f"PASS key proxy: {name}", flush=True)
        except Exception as e:  # noqa: BLE001 - reported, then the next check
            failed += 1
            if not isinstance(e, AssertionError):
                traceback.print_exc()
            print(f"FAIL key proxy: {name}: {e}", flush=True)

    def head_and_body() -> None:
        head = (
            b"POST /echo?q=1 HTTP/1.1\r\nHost: example.test:1234\r\nX-Odd-Case:  spaced value \r\n"
            b"X-API-Key: client-sent\r\naccept: */*\r\nContent-Length: %d\r\n\r\n" % len(BINARY)
        )
        with proxy.connect() as sock:
            sock.sendall(head + BINARY)
            echo = read_response(key_proxy.Reader(sock))
        expected = (
            b"POST /echo?q=1 HTTP/1.1\r\nHost: example.test:1234\r\nX-Odd-Case:  spaced value \r\n"
            b"accept: */*\r\nContent-Length: %d\r\nx-api-key: %s\r\n\r\n" % (len(BINARY), KEY.encode())
        )
        assert echo == expected + BINARY, f"upstream got {echo[:300]!r}..."

    def chunked() -> None:
        body = b"4;ext=1\r\nabcd\r\n3\r\n\x00\r\n\r\n0\r\nX-Trailer: t\r\n\r\n"
        head = b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        with proxy.connect() as sock:
            sock.sendall(head + body)
            echo = read_response(key_proxy.Reader(sock))
        assert echo.endswith(b"\r\nx-api-key: %s\r\n\r\n" % KEY.encode() + body), f"upstream got {echo!r}"

    def pipelined() -> None:
        one = b"GET /echo/1 HTTP/1.1\r\nHost: h\r\n\r\n"
        two = b"POST /echo/2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi"
        with proxy.connect() as sock:
            sock.sendall(one + two)
            reader = key_proxy.Reader(sock)
            first, second = read_response(reader), read_response(reader)
        key_line = b"x-api-key: %s\r\n" % KEY.encode()
        assert first.startswith(b"GET /echo/1 ") and key_line in first, f"first {first!r}"
        assert second.startswith(b"POST /echo/2 ") and key_line in second and second.endswith(b"hi"), f"second {second!r}"

    def streams() -> None:
        with proxy.connect() as sock:
            sock.sendall(b"POST /stream HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
            reader = key_proxy.Reader(sock)
            head = reader.until(b"\r\n\r\n", key_proxy.MAX_HEAD)
            assert b"text/event-stream" in head, f"head {head!r}"
            first = reader.until(b"\n\n\r\n", 4096)
            assert first == b"d\r\ndata: one\n\n\r\n", f"first chunk {first!r}"
            assert not upstream.stream_finished.is_set(), "the upstream finished before the client read"
            upstream.first_chunk_seen.set()
            rest = reader.until(b"0\r\n\r\n", 4096)
            assert rest == b"d\r\ndata: two\n\n\r\n0\r\n\r\n", f"rest {rest!r}"

    def bytes_back() -> None:
        with proxy.connect() as sock:
            sock.sendall(b"GET /binary HTTP/1.1\r\nHost: h\r\n\r\n")
            assert read_response(key_proxy.Reader(sock)) == BINARY, "response bytes differ"

    def bearer_mode() -> None:
        with bearer.connect() as sock:
            sock.sendall(b"GET /echo HTTP/1.1\r\nHost: h\r\nAuthorization: Basic Zm9vOmJhcg==\r\n\r\n")
            echo = read_response(key_proxy.Reader(sock))
        assert echo == b"GET /echo HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer %s\r\n\r\n" % KEY.encode(), f"{echo!r}"

    def needs_key() -> None:
        env = {k: v for k, v in os.environ.items() if k != "MCPCTL_API_KEY"}
        run = subprocess.run(
            [sys.executable, str(PROXY), "--upstream", "http://127.0.0.1:9"],
            env=env, capture_output=True, text=True, timeout=TIMEOUT_S,
        )
        assert run.returncode == 2 and "MCPCTL_API_KEY" in run.stderr, f"rc {run.returncode} {run.stderr!r}"

    started = time.monotonic()
    try:
        check("head as sent plus the key (client's own x-api-key replaced), body byte for byte", head_and_body)
        check("chunked request body: framing, extensions and trailers kept", chunked)
        check("pipelined keep-alive requests each get the key", pipelined)
        check("streamed response reaches the client while the upstream is still sending", streams)
        check("response bytes exactly as sent", bytes_back)
        check("--bearer: Authorization: Bearer KEY replaces the client's Authorization", bearer_mode)
        check("refuses to start without MCPCTL_API_KEY", needs_key)
    finally:
        proxy.stop()
        bearer.stop()
    print(f"key proxy check: {time.monotonic() - started:.1f}s", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
