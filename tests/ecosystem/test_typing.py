"""mypy --strict accepts a ferrotls Context (and what it returns) wherever the stdlib
annotations ask for ssl's classes (it rejected ``HTTPSConnection(context=...)`` before)."""

from __future__ import annotations

from pathlib import Path

import pytest

SNIPPET = '''
import asyncio
import http.client
import socket
import ssl
import urllib.request

import ferrotls

ctx: ssl.SSLContext = ferrotls.create_default_context()
conn = http.client.HTTPSConnection("localhost", 443, context=ferrotls.create_default_context())
urllib.request.urlopen("https://localhost/", context=ctx)
sock: ssl.SSLSocket = ferrotls.Context(ssl.PROTOCOL_TLS_CLIENT).wrap_socket(socket.socket(), server_hostname="x")
obj: ssl.SSLObject = ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="x")
error: ssl.SSLError = ferrotls.TLSError("x")


async def main() -> None:
    await asyncio.open_connection("localhost", 443, ssl=ferrotls.create_default_context())
'''


def test_mypy_strict_accepts_ferrotls_where_ssl_is_expected(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    path = tmp_path / "uses_ferrotls.py"
    path.write_text(SNIPPET)
    out, err, status = api.run(["--strict", "--cache-dir", str(tmp_path / "cache"), str(path)])
    assert status == 0, out + err
