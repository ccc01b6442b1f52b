"""``ferrotls client --dtls`` and ``ferrotls server --dtls``: DTLS 1.3 over UDP.

The client sends each stdin line as one datagram and prints each datagram it
receives (one line each); at the end of stdin it waits ``--timeout`` seconds for
the last answers and closes with close_notify.  The server answers every
datagram: ``echo`` sends it back, ``request`` answers ``OK <n> bytes:
<datagram>`` (a request/response exchange without CoAP).  Both take an external
PSK (``--psk-identity ID --psk-hex KEY``) and ``--mtu``.
"""

from __future__ import annotations

import argparse
import asyncio
import select
import socket
import sys
import time
from typing import Any

from ..config import ClientConfig, ServerConfig
from ..dtls import DTLSClientConnection, DTLSConfig
from ..errors import TLSError
from ..events import ApplicationData, ConnectionClosed, HandshakeComplete
from ..psk import ExternalPsk

__all__ = ["add_client_arguments", "add_server_arguments", "run_client", "run_server", "external_psk"]


def add_client_arguments(p: argparse.ArgumentParser) -> None:
    """The DTLS options of ``ferrotls client``."""
    g = p.add_argument_group("DTLS")
    g.add_argument("--dtls", action="store_true", help="DTLS over UDP to HOST:PORT (one datagram per stdin line)")
    g.add_argument("--dtls-version", choices=("1.2", "1.3"), default="1.3", help="DTLS version (default 1.3)")
    g.add_argument("--mtu", type=int, default=1200, help="bytes of UDP payload per datagram (default 1200)")


def add_server_arguments(p: argparse.ArgumentParser) -> None:
    """The DTLS options of ``ferrotls server`` (--psk-identity / --psk-hex are common options)."""
    g = p.add_argument_group("DTLS")
    g.add_argument("--dtls", action="store_true", help="serve DTLS over UDP on --host/--port")
    g.add_argument("--dtls-version", choices=("1.2", "1.3"), default="1.3", help="DTLS version (default 1.3)")
    g.add_argument("--dtls-mode", choices=("echo", "request"), default="echo",
                   help="echo each datagram, or answer it as a request (default echo)")
    g.add_argument("--mtu", type=int, default=1200, help="bytes of UDP payload per datagram (default 1200)")


def external_psk(identity: str | None, key_hex: str | None, hash_name: str = "sha256") -> ExternalPsk | None:
    if identity is None and key_hex is None:
        return None
    if identity is None or key_hex is None:
        raise ValueError("give --psk-identity and --psk-hex together")
    try:
        key = bytes.fromhex(key_hex)
    except ValueError:
        raise ValueError(f"the PSK must be hexadecimal, got {key_hex!r}") from None
    return ExternalPsk(identity.encode("utf-8"), key, hash_name=hash_name)


def _check_version(version: str) -> None:
    if version != "1.3":
        raise ValueError("DTLS 1.2 is not implemented yet (use --dtls-version 1.3)")


def run_client(args: argparse.Namespace, config: ClientConfig, host: str, port: int, server_name: str) -> int:
    """The DTLS client loop; returns the exit status."""
    try:
        _check_version(args.dtls_version)
        psk = external_psk(args.psk_identity, args.psk_hex)
    except ValueError as exc:
        print(f"ferrotls client: {exc}", file=sys.stderr)
        return 2
    if psk is not None:
        from dataclasses import replace

        config = replace(config, external_psks=(psk,))
    family, _, _, _, peer = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    conn = DTLSClientConnection(config, server_name, dtls=DTLSConfig(mtu=args.mtu), now=time.monotonic())
    stdin_open = True
    deadline = time.monotonic() + args.timeout
    out = sys.stdout.buffer
    try:
        while True:
            for d in conn.datagrams_to_send():
                sock.sendto(d, peer)
            now = time.monotonic()
            if now > deadline:
                if not conn.handshake_complete:
                    print("ferrotls client: DTLS handshake timed out", file=sys.stderr)
                    return 1
                break
            timer = conn.next_timeout()
            wait = min(deadline - now, 0.5 if timer is None else max(0.0, timer - now))
            watch: list[Any] = [sock] + ([sys.stdin] if stdin_open and conn.handshake_complete else [])
            ready, _, _ = select.select(watch, [], [], wait)
            if sock in ready:
                data, _ = sock.recvfrom(65536)
                conn.receive_datagram(data, time.monotonic())
                deadline = time.monotonic() + args.timeout
            elif sys.stdin in ready:
                line = sys.stdin.buffer.readline()
                if not line:
                    stdin_open = False
                    deadline = time.monotonic() + min(args.timeout, 2.0)
                else:
                    conn.send(line.rstrip(b"\n"))
            else:
                conn.handle_timeout(time.monotonic())
            for event in conn.events():
                if isinstance(event, HandshakeComplete) and not args.quiet:
                    print(f"ferrotls client: {event.version} {event.cipher_suite:#06x} with {host}:{port}"
                          f"{' (PSK ' + event.psk_identity.decode(errors='replace') + ')' if event.psk_identity else ''}",
                          file=sys.stderr, flush=True)
                elif isinstance(event, ApplicationData):
                    out.write(event.data + b"\n")
                    out.flush()
                elif isinstance(event, ConnectionClosed):
                    return 0
        conn.close()
        for d in conn.datagrams_to_send():
            sock.sendto(d, peer)
        return 0
    except TLSError as exc:
        for d in conn.datagrams_to_send():
            sock.sendto(d, peer)
        print(f"ferrotls client: DTLS failed: {exc}", file=sys.stderr)
        return 1
    finally:
        sock.close()


def run_server(args: argparse.Namespace, config: ServerConfig) -> int:
    """The DTLS server: serves until interrupted."""
    try:
        _check_version(args.dtls_version)
    except ValueError as exc:
        print(f"ferrotls server: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_serve(args, config))
    except KeyboardInterrupt:
        return 0


async def _serve(args: argparse.Namespace, config: ServerConfig) -> int:
    from ..asyncio import DTLSServerEndpoint, DTLSSession, create_dtls_endpoint

    endpoint = await create_dtls_endpoint(config, local_addr=(args.host, args.port), dtls=DTLSConfig(mtu=args.mtu),
                                          handshake_timeout=args.handshake_timeout)
    assert isinstance(endpoint, DTLSServerEndpoint)
    host, port = endpoint.local_address()[:2]
    print(f"ferrotls server: DTLS 1.3 listening on {host}:{port} (udp, {args.dtls_mode})", file=sys.stderr, flush=True)
    tasks: set[asyncio.Task[None]] = set()

    async def serve(session: DTLSSession) -> None:
        info = session.info
        peer = f"{session.peer[0]}:{session.peer[1]}"
        who = f" psk:{info.psk_identity.decode(errors='replace')}" if info is not None and info.psk_identity else ""
        print(f"ferrotls server: {peer}: {info.version if info else '?'} established{who}", file=sys.stderr, flush=True)
        try:
            while data := await session.recv():
                if args.dtls_mode == "request":
                    session.send(b"OK %d bytes: " % len(data) + data)
                else:
                    session.send(data)
        except TLSError as exc:
            print(f"ferrotls server: {peer}: {exc}", file=sys.stderr, flush=True)
        print(f"ferrotls server: {peer}: closed", file=sys.stderr, flush=True)

    def on_session(session: DTLSSession) -> None:
        task = asyncio.get_running_loop().create_task(serve(session))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    endpoint.on_session = on_session
    try:
        await asyncio.Event().wait()
    finally:
        endpoint.close()
    return 0
