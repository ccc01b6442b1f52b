"""``ferrotls gateway --accept-dtls ADDR --connect-udp ADDR``: DTLS 1.3 or 1.2
(``--dtls-version``) from devices, plaintext UDP to the backend.

Each device session gets its own upstream UDP socket, so the backend's replies
find their way back to that session; each application datagram travels as one
UDP datagram.  A session's line when it ends has the fields of the TLS
gateway's (``peer -> target identity= up= down= duration= close=``), with up and
down counted in application bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from typing import Any

from ..config import ServerConfig
from ..dtls import DTLSConfig
from .dtls_cli import version_text
from ..errors import TLSError

__all__ = ["run_dtls_gateway"]

logger = logging.getLogger("ferrotls.gateway")


class _Upstream(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Any) -> None:
        self.on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.on_datagram(data)

    def error_received(self, exc: Exception) -> None:
        pass


async def _gateway(args: argparse.Namespace, config: ServerConfig, accept: tuple[str, int],
                   target: tuple[str, int]) -> int:
    from ..asyncio import DTLSServerEndpoint, DTLSSession, create_dtls_endpoint

    dtls = DTLSConfig(mtu=args.mtu, versions=args.dtls_version)
    endpoint = await create_dtls_endpoint(config, local_addr=accept, dtls=dtls,
                                          handshake_timeout=args.handshake_timeout)
    assert isinstance(endpoint, DTLSServerEndpoint)
    host, port = endpoint.local_address()[:2]
    target_text = f"{target[0]}:{target[1]}"
    print(f"ferrotls gateway: DTLS {host}:{port} -> UDP {target_text} ({version_text(dtls.versions)})",
          file=sys.stderr, flush=True)
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()

    async def serve(session: DTLSSession) -> None:
        start = time.monotonic()
        peer = f"{session.peer[0]}:{session.peer[1]}"
        info = session.info
        identity = "-"
        if info is not None and info.psk_identity is not None:
            identity = "psk:" + info.psk_identity.decode("utf-8", "backslashreplace")
        up = down = 0
        reason = "?"

        def from_backend(data: bytes) -> None:
            nonlocal down
            if not session.closed:
                down += len(data)
                try:
                    session.send(data)
                except TLSError:
                    pass

        transport, _ = await loop.create_datagram_endpoint(lambda: _Upstream(from_backend), remote_addr=target)
        try:
            while data := await session.recv():
                up += len(data)
                transport.sendto(data)
            reason = "client closed"
        except TLSError as exc:
            reason = f"client error: {exc}"
        finally:
            transport.close()
            session.close()
            logger.info("%s -> %s identity=%s up=%d down=%d duration=%.3fs close=%s",
                        peer, target_text, identity, up, down, time.monotonic() - start, reason)

    def on_session(session: DTLSSession) -> None:
        task = loop.create_task(serve(session))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    endpoint.on_session = on_session
    try:
        await asyncio.Event().wait()
    finally:
        endpoint.close()
    return 0


def run_dtls_gateway(args: argparse.Namespace, config: ServerConfig, accept: tuple[str, int],
                     target: tuple[str, int]) -> int:
    """Serve until interrupted."""
    try:
        return asyncio.run(_gateway(args, config, accept, target))
    except KeyboardInterrupt:
        return 0
