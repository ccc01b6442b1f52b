"""``ferrotls gateway --accept-dtls ADDR``: DTLS 1.3 or 1.2 (``--dtls-version``) from
devices, forwarded to a backend.

* ``--connect-udp HOST:PORT``: plaintext UDP.  Each device session gets its own
  upstream UDP socket, so the backend's replies find their way back to that
  session; each application datagram travels as one UDP datagram.
* ``--connect HOST:PORT``: TLS over TCP (the smart meter -> gateway -> server
  path).  Each device session gets its own TLS connection to the upstream
  (verified against ``--upstream-ca`` or the system store, name ``--servername``
  or HOST; ``--insecure`` turns verification off), opened when the device's
  handshake completes; each application datagram travels as one message of a
  2-byte big-endian length and the datagram, and each such message from the
  upstream goes back to the device as one datagram (a message too large for one
  datagram of the device's path is dropped and counted).  The device closing
  closes the TLS connection (close_notify), and the upstream closing or failing
  closes the device's session.

A session's line when it ends has the fields of the TLS gateway's (``peer ->
target identity= up= down= duration= close=``), with up and down counted in
application bytes (the framing's length fields excluded).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

from ..config import ServerConfig
from ..dtls import DTLSConfig
from ..errors import TLSError, UsageError
from .dtls_cli import version_text

__all__ = ["run_dtls_gateway", "run_dtls_tls_gateway", "FRAME_HEADER", "MAX_FRAME"]

logger = logging.getLogger("ferrotls.gateway")

FRAME_HEADER = 2
"""Bytes of the big-endian length before each message on the TLS upstream."""
MAX_FRAME = (1 << 16) - 1


class _Upstream(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Any) -> None:
        self.on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.on_datagram(data)

    def error_received(self, exc: Exception) -> None:
        pass


class _Session:
    """What one device session's log line reports."""

    def __init__(self, session: Any) -> None:
        self.start = time.monotonic()
        self.peer = f"{session.peer[0]}:{session.peer[1]}"
        info = session.info
        self.identity = "-"
        if info is not None and info.psk_identity is not None:
            self.identity = "psk:" + info.psk_identity.decode("utf-8", "backslashreplace")
        self.up = self.down = self.dropped = 0
        self.reasons: list[str] = []

    def log(self, target: str) -> None:
        extra = f" dropped={self.dropped}" if self.dropped else ""
        logger.info("%s -> %s identity=%s up=%d down=%d duration=%.3fs close=%s%s",
                    self.peer, target, self.identity, self.up, self.down, time.monotonic() - self.start,
                    "; ".join(self.reasons) or "?", extra)


async def _serve(args: argparse.Namespace, config: ServerConfig, accept: tuple[str, int], banner: str,
                 serve: Callable[[Any], Coroutine[Any, Any, None]]) -> int:
    from ..asyncio import DTLSServerEndpoint, create_dtls_endpoint

    dtls = DTLSConfig(mtu=args.mtu, versions=args.dtls_version)
    endpoint = await create_dtls_endpoint(config, local_addr=accept, dtls=dtls,
                                          handshake_timeout=args.handshake_timeout)
    assert isinstance(endpoint, DTLSServerEndpoint)
    host, port = endpoint.local_address()[:2]
    print(f"ferrotls gateway: DTLS {host}:{port} -> {banner} ({version_text(dtls.versions)})",
          file=sys.stderr, flush=True)
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()

    def on_session(session: Any) -> None:
        task = loop.create_task(serve(session))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    endpoint.on_session = on_session
    try:
        await asyncio.Event().wait()
    finally:
        endpoint.close()
    return 0


# --------------------------------------------------------------------------- plaintext UDP upstream


async def _udp_gateway(args: argparse.Namespace, config: ServerConfig, accept: tuple[str, int],
                       target: tuple[str, int]) -> int:
    loop = asyncio.get_running_loop()
    target_text = f"{target[0]}:{target[1]}"

    async def serve(session: Any) -> None:
        stats = _Session(session)

        def from_backend(data: bytes) -> None:
            if not session.closed:
                stats.down += len(data)
                try:
                    session.send(data)
                except TLSError:
                    stats.dropped += 1

        transport, _ = await loop.create_datagram_endpoint(lambda: _Upstream(from_backend), remote_addr=target)
        try:
            while data := await session.recv():
                stats.up += len(data)
                transport.sendto(data)
            stats.reasons.append("client closed")
        except TLSError as exc:
            stats.reasons.append(f"client error: {exc}")
        finally:
            transport.close()
            session.close()
            stats.log(target_text)

    return await _serve(args, config, accept, f"UDP {target_text}", serve)


def run_dtls_gateway(args: argparse.Namespace, config: ServerConfig, accept: tuple[str, int],
                     target: tuple[str, int]) -> int:
    """``--connect-udp``: serve until interrupted."""
    try:
        return asyncio.run(_udp_gateway(args, config, accept, target))
    except KeyboardInterrupt:
        return 0


# --------------------------------------------------------------------------- TLS upstream


async def _to_upstream(session: Any, writer: asyncio.StreamWriter, stats: _Session) -> None:
    """Device datagrams -> length-prefixed messages, until the device closes."""
    try:
        while data := await session.recv():
            stats.up += len(data)
            writer.write(len(data).to_bytes(FRAME_HEADER, "big") + data)
            await writer.drain()
        stats.reasons.append("client closed")
    except TLSError as exc:
        stats.reasons.append(f"client error: {exc}")
    except OSError as exc:
        stats.reasons.append(f"upstream write error: {exc}")


async def _from_upstream(session: Any, reader: asyncio.StreamReader, stats: _Session) -> None:
    """Length-prefixed messages -> device datagrams, until the upstream closes."""
    try:
        while True:
            header = await reader.readexactly(FRAME_HEADER)
            message = await reader.readexactly(int.from_bytes(header, "big"))
            stats.down += len(message)
            if session.closed:
                continue
            try:
                session.send(message)
            except UsageError:  # larger than one datagram of the device's path
                stats.dropped += 1
    except asyncio.IncompleteReadError as exc:
        stats.reasons.append("upstream closed" if not exc.partial else "upstream closed mid-message")
    except (OSError, TLSError) as exc:
        stats.reasons.append(f"upstream error: {exc}")


async def _tls_gateway(args: argparse.Namespace, config: ServerConfig, accept: tuple[str, int],
                       target: tuple[str, int], upstream: Any) -> int:
    from ..transports.aio import open_connection
    from .server import failure_reason

    host, port = target
    server_name = args.servername or host
    target_text = f"{host}:{port}"

    async def serve(session: Any) -> None:
        stats = _Session(session)
        try:
            reader, writer = await asyncio.wait_for(
                open_connection(host, port, context=upstream, server_hostname=server_name,
                                ssl_handshake_timeout=args.handshake_timeout, ssl_shutdown_timeout=5.0),
                args.handshake_timeout + 10.0)
        except (OSError, TLSError, TimeoutError) as exc:
            stats.reasons.append(f"upstream failed: {failure_reason(exc)}")
            session.close()
            stats.log(target_text)
            return
        up = asyncio.ensure_future(_to_upstream(session, writer, stats))
        down = asyncio.ensure_future(_from_upstream(session, reader, stats))
        try:
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (up, down):
                task.cancel()
            await asyncio.gather(up, down, return_exceptions=True)
            session.close()
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), 5.0)
            except (Exception, asyncio.CancelledError):  # noqa: BLE001 - closing anyway
                writer.transport.abort()
            stats.log(target_text)

    return await _serve(args, config, accept, f"TLS {target_text} ({server_name}, length-prefixed)", serve)


def run_dtls_tls_gateway(args: argparse.Namespace, config: ServerConfig, accept: tuple[str, int],
                         target: tuple[str, int], upstream: Any) -> int:
    """``--connect``: serve until interrupted; ``upstream`` is the client Context
    the TLS connections to ``target`` use."""
    try:
        return asyncio.run(_tls_gateway(args, config, accept, target, upstream))
    except KeyboardInterrupt:
        return 0
