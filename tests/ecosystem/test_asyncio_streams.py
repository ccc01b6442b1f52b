"""asyncio's own TLS over ferrotls: streams with ``ssl=`` (client and server) and
``start_tls`` (client and server side), on the default loop and on uvloop."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import ferrotls
import pytest
from eco_support import LOOPBACK, PKI, Opened, client_context, openssl_client, openssl_server, run_loop, server_context

LOOPS = ["asyncio", "uvloop"]
PAYLOAD = bytes(range(256)) * 1024  # 256 KiB, many records


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def _roundtrip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(PAYLOAD)
    await writer.drain()
    assert await reader.readexactly(len(PAYLOAD)) == PAYLOAD
    writer.write(b"ping")
    assert await reader.readexactly(4) == b"ping"


@pytest.mark.parametrize("loop_kind", LOOPS)
def test_open_connection_ssl(mode: str, loop_kind: str, pki: PKI, opened: Opened) -> None:
    async def main() -> None:
        server = await asyncio.start_server(_echo, LOOPBACK, 0, ssl=openssl_server(pki.server_pem))
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await asyncio.open_connection(LOOPBACK, port, ssl=client_context(mode, pki))
            ssl_object = writer.get_extra_info("ssl_object")
            assert isinstance(ssl_object, ferrotls.TLSObject) and isinstance(ssl_object, ssl.SSLObject)
            assert writer.get_extra_info("cipher")[1] == "TLSv1.3"
            assert writer.get_extra_info("peercert")["subjectAltName"]
            await _roundtrip(reader, writer)
            writer.close()
            await writer.wait_closed()

    run_loop(main(), loop_kind)
    assert opened.client == 1


@pytest.mark.parametrize("loop_kind", LOOPS)
def test_open_connection_ssl_true_injected(loop_kind: str, pki: PKI, opened: Opened, monkeypatch: Any) -> None:
    """``ssl=True``: asyncio makes the context itself (ssl.create_default_context)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca_pem))

    async def main() -> None:
        server = await asyncio.start_server(_echo, LOOPBACK, 0, ssl=openssl_server(pki.server_pem))
        port = server.sockets[0].getsockname()[1]
        async with server:
            with ferrotls.injected():
                reader, writer = await asyncio.open_connection(LOOPBACK, port, ssl=True)
            await _roundtrip(reader, writer)
            writer.close()
            await writer.wait_closed()

    run_loop(main(), loop_kind)
    assert opened.client == 1


@pytest.mark.parametrize("loop_kind", LOOPS)
def test_start_server_ssl(mode: str, loop_kind: str, pki: PKI, opened: Opened) -> None:
    async def main() -> None:
        server = await asyncio.start_server(_echo, LOOPBACK, 0, ssl=server_context(mode, pki))
        port = server.sockets[0].getsockname()[1]
        async with server:
            for _ in range(2):
                reader, writer = await asyncio.open_connection(
                    LOOPBACK, port, ssl=openssl_client(pki), server_hostname="localhost")
                await _roundtrip(reader, writer)
                writer.close()
                await writer.wait_closed()

    run_loop(main(), loop_kind)
    assert opened.server == 2


@pytest.mark.parametrize("loop_kind", LOOPS)
def test_start_tls_client(mode: str, loop_kind: str, pki: PKI, opened: Opened) -> None:
    """A plain connection upgraded with StreamWriter.start_tls (loop.start_tls underneath)."""
    openssl = openssl_server(pki.server_pem)

    async def upgrade(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert await reader.readexactly(9) == b"STARTTLS\n"
        writer.write(b"GO\n")
        await writer.drain()
        await writer.start_tls(openssl)
        await _echo(reader, writer)

    async def main() -> None:
        server = await asyncio.start_server(upgrade, LOOPBACK, 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await asyncio.open_connection(LOOPBACK, port)
            writer.write(b"STARTTLS\n")
            assert await reader.readexactly(3) == b"GO\n"
            await writer.start_tls(client_context(mode, pki), server_hostname="localhost")
            assert isinstance(writer.get_extra_info("ssl_object"), ferrotls.TLSObject)
            await _roundtrip(reader, writer)
            writer.close()
            await writer.wait_closed()

    run_loop(main(), loop_kind)
    assert opened.client == 1


@pytest.mark.parametrize("loop_kind", LOOPS)
def test_start_tls_server(mode: str, loop_kind: str, pki: PKI, opened: Opened) -> None:
    async def main() -> None:
        ferro = server_context(mode, pki)

        async def upgrade(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            assert await reader.readexactly(9) == b"STARTTLS\n"
            writer.write(b"GO\n")
            await writer.drain()
            await writer.start_tls(ferro)
            assert isinstance(writer.get_extra_info("ssl_object"), ferrotls.TLSObject)
            await _echo(reader, writer)

        server = await asyncio.start_server(upgrade, LOOPBACK, 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await asyncio.open_connection(LOOPBACK, port)
            writer.write(b"STARTTLS\n")
            assert await reader.readexactly(3) == b"GO\n"
            await writer.start_tls(openssl_client(pki), server_hostname="localhost")
            await _roundtrip(reader, writer)
            writer.close()
            await writer.wait_closed()

    run_loop(main(), loop_kind)
    assert opened.server == 1


@pytest.mark.parametrize("loop_kind", LOOPS)
def test_close_notify_reaches_the_reader(loop_kind: str, pki: PKI) -> None:
    """The server closes: the ferrotls client reads EOF (close_notify), not an error."""

    async def hello_and_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"bye")
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def main() -> None:
        server = await asyncio.start_server(hello_and_close, LOOPBACK, 0, ssl=openssl_server(pki.server_pem))
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await asyncio.open_connection(LOOPBACK, port, ssl=client_context("explicit", pki))
            assert await reader.read() == b"bye"
            writer.close()
            await writer.wait_closed()

    run_loop(main(), loop_kind)
