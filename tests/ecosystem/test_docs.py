"""The examples of docs/ecosystem.md, run as written on 127.0.0.1.

Client examples run in this process against an OpenSSL server of the kind their
first line names (``# client: https | wss | echo``); server examples run in a
subprocess, checked with an OpenSSL client, then stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets.sync.client
import websockets.sync.server
from eco_support import LOOPBACK, PKI, TIMEOUT, https_server, openssl_client, openssl_server

DOC = Path(__file__).resolve().parents[2] / "docs" / "ecosystem.md"
BLOCK = re.compile(r"```python\n# (client|server): (\w+)\n(.*?)```", re.DOTALL)


def examples(role: str) -> list[Any]:
    if not DOC.exists():
        return [pytest.param(None, None, marks=pytest.mark.skip(reason="docs/ecosystem.md not in this tree"))]
    found = [(kind, code) for r, kind, code in BLOCK.findall(DOC.read_text()) if r == role]
    return [pytest.param(kind, code, id=f"{role}-{i}-{kind}") for i, (kind, code) in enumerate(found)]


def test_every_example_is_tagged() -> None:
    if not DOC.exists():
        pytest.skip("docs/ecosystem.md not in this tree")
    text = DOC.read_text()
    assert text.count("```python\n") == len(BLOCK.findall(text)) + 1  # + the inject snippet
    assert len(examples("client")) >= 8 and len(examples("server")) >= 5


@contextlib.contextmanager
def openssl_peer(kind: str, pki: PKI) -> Iterator[int]:
    ctx = openssl_server(pki.server_pem)
    if kind == "https":
        with https_server(ctx) as port:
            yield port
        return
    if kind == "wss":
        def echo(ws: Any) -> None:
            for message in ws:
                ws.send(message)

        server = websockets.sync.server.serve(echo, LOOPBACK, 0, ssl=ctx)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server.socket.getsockname()[1]
        finally:
            server.shutdown()
            thread.join(TIMEOUT)
        return
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def line_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            writer.write(line)
            await writer.drain()
        writer.close()

    async def start() -> Any:
        return await asyncio.start_server(line_echo, LOOPBACK, 0, ssl=ctx)

    server = asyncio.run_coroutine_threadsafe(start(), loop).result(TIMEOUT)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(TIMEOUT)


@pytest.mark.parametrize(("kind", "code"), examples("client"))
def test_client_example(kind: str, code: str, pki: PKI, capsys: pytest.CaptureFixture[str]) -> None:
    with openssl_peer(kind, pki) as port:
        exec(compile(code, f"docs/ecosystem.md ({kind} client)", "exec"),  # noqa: S102 - our own docs
             {"cafile": str(pki.ca_pem), "host": LOOPBACK, "port": port, "__name__": "__doc_example__"})
    out = capsys.readouterr().out
    expected = {"https": "hello /", "wss": "hello", "echo": "pong"}[kind]
    assert expected in out, out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        port: int = s.getsockname()[1]
        return port


def _wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the example exited: {proc.communicate()[1].decode()}")
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=1):
            return
        time.sleep(0.05)
    raise AssertionError("the example server never listened")


@pytest.mark.parametrize(("kind", "code"), examples("server"))
def test_server_example(kind: str, code: str, pki: PKI, tmp_path: Path) -> None:
    port = _free_port()
    script = tmp_path / "example.py"
    script.write_text(f"certfile = {str(pki.server_pem)!r}\nport = {port}\n" + code)
    (tmp_path / "index.html").write_text("hello from the example\n")
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=dict(os.environ),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_listening(port, proc)
        client = openssl_client(pki)
        if kind == "https":
            with urllib.request.urlopen(f"https://127.0.0.1:{port}/", context=client, timeout=TIMEOUT) as r:
                assert b"hello" in r.read()
        elif kind == "wss":
            with websockets.sync.client.connect(f"wss://127.0.0.1:{port}/", ssl=client, open_timeout=TIMEOUT) as ws:
                ws.send("hello")
                assert ws.recv(timeout=TIMEOUT) == "hello"
        else:
            with socket.create_connection((LOOPBACK, port), timeout=TIMEOUT) as raw:
                with client.wrap_socket(raw, server_hostname="localhost") as tls:
                    tls.sendall(b"ping\n")
                    assert tls.recv(100) == b"ping\n"
    finally:
        proc.terminate()
        try:
            proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(TIMEOUT)
        if proc.stderr is not None:
            proc.stderr.close()
