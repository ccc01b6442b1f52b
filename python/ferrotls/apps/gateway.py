"""``ferrotls gateway``: a TLS-terminating forwarder, like stunnel.

* Default (server mode): TLS in on ``--accept``, plaintext out to ``--connect``.
* ``--client``: plaintext in on ``--accept``, TLS out to the upstream TLS server
  ``--connect`` (``--ca``/``--servername``/``--insecure``/``--cert``/``--key`` apply).

Every connection runs in the same asyncio loop.  Each one ends with one log line
(stderr): peer address, identity (client certificate subject or PSK identity,
in server mode; the upstream's certificate subject in client mode), bytes each
way, duration and the close reason.  A TLS client that does not finish its
handshake within ``--handshake-timeout`` (default 10 s) is dropped; an
unreachable or vanished backend gives the TLS client a clean close
(close_notify); a reset on one side aborts only that connection.  SIGINT and
SIGTERM stop the listener, close the open connections and exit 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
import warnings
from typing import Any

from .client import parse_hostport
from .server import (
    AcceptedTLS,
    add_server_tls_arguments,
    apply_common,
    build_server_context,
    describe_peer,
    failure_reason,
    peer_identity,
    print_listening,
    run_until_signalled,
    serve_tls,
    stop_on_signals,
)
from ..context import CERT_NONE, Context, Purpose
from ..errors import TLSError
from ..events import HandshakeComplete
from ..transports.aio import open_connection

__all__ = ["add_arguments", "main"]

logger = logging.getLogger("ferrotls.gateway")

CONNECT_TIMEOUT = 10.0
CHUNK = 65536


class _Stats:
    __slots__ = ("down", "identity", "peer", "reasons", "start", "up")

    def __init__(self, peer: str, start: float) -> None:
        self.peer = peer
        self.identity: str | None = None
        self.up = 0  # client -> backend
        self.down = 0  # backend -> client
        self.start = start
        self.reasons: list[str] = []

    def log(self, target: str) -> None:
        logger.info(
            "%s -> %s identity=%s up=%d down=%d duration=%.3fs close=%s",
            self.peer, target, self.identity or "-", self.up, self.down,
            time.monotonic() - self.start, "; ".join(self.reasons) or "?",
        )


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: _Stats,
                upstream: bool, src: str) -> None:
    """Copy until EOF (then half-close the other side) or an error (then raise)."""
    while True:
        try:
            data = await reader.read(CHUNK)
        except (OSError, TLSError) as exc:
            stats.reasons.append(f"{src} error: {failure_reason(exc)}")
            raise
        if not data:
            stats.reasons.append(f"{src} closed")
            if not writer.is_closing() and writer.can_write_eof():
                try:
                    writer.write_eof()
                except OSError:
                    pass
            return
        if upstream:
            stats.up += len(data)
        else:
            stats.down += len(data)
        writer.write(data)
        try:
            await writer.drain()
        except (OSError, TLSError) as exc:
            other = "backend" if src == "client" else "client"
            stats.reasons.append(f"{other} write error: {failure_reason(exc)}")
            raise


async def _close(writer: asyncio.StreamWriter, abort: bool = False) -> None:
    if abort:
        writer.transport.abort()
        return
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 5.0)
    except (Exception, asyncio.CancelledError):  # noqa: BLE001 - closing anyway
        writer.transport.abort()


async def pipe(client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
               backend: tuple[asyncio.StreamReader, asyncio.StreamWriter], stats: _Stats) -> None:
    """Both directions until both ended; an error on either side ends both."""
    up = asyncio.ensure_future(_copy(client[0], backend[1], stats, True, "client"))
    down = asyncio.ensure_future(_copy(backend[0], client[1], stats, False, "backend"))
    pending: set[asyncio.Future[None]] = {up, down}
    failed = False
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            # look at every finished copier: any() would stop at the first failure and
            # leave a second one's exception unretrieved (both fail on a client reset)
            if [t for t in done if t.exception() is not None]:
                failed = True
                break
    finally:
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
    # The client always gets a clean close (close_notify in server mode); the
    # backend connection is closed (aborted if the client side broke).
    client_failed = failed and up.done() and not up.cancelled() and up.exception() is not None
    await asyncio.gather(_close(client[1]), _close(backend[1], abort=client_failed))


# --------------------------------------------------------------------------- server mode


async def _run_server_mode(args: argparse.Namespace, ctx: Context) -> int:
    host, port = parse_hostport(args.accept)
    bhost, bport = parse_hostport(args.connect)
    target = f"{bhost}:{bport}"
    connections: set[asyncio.StreamWriter] = set()
    stop = stop_on_signals()

    def on_failure(peer: str, exc: BaseException) -> None:
        what = "handshake timed out" if isinstance(exc, TimeoutError) else "handshake failed"
        logger.info("%s -> %s identity=- up=0 down=0 close=%s: %s", peer, target, what,
                    failure_reason(exc))

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                      tls: AcceptedTLS) -> None:
        stats = _Stats(tls.peer, tls.accepted_at)
        info: HandshakeComplete = writer.get_extra_info("ferrotls_connection").info
        stats.identity = peer_identity(info)
        try:
            b_reader, b_writer = await asyncio.wait_for(
                asyncio.open_connection(bhost, bport), CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            stats.reasons.append(f"backend unreachable: {type(exc).__name__}: {exc}")
            await _close(writer)
            stats.log(target)
            return
        connections.add(b_writer)
        try:
            await pipe((reader, writer), (b_reader, b_writer), stats)
        finally:
            connections.discard(b_writer)
            stats.log(target)

    server = await serve_tls(ctx, host, port, handler, handshake_timeout=args.handshake_timeout,
                             on_failure=on_failure, connections=connections)
    addr = print_listening(server)
    print(f"ferrotls gateway: TLS {addr} -> plaintext {target}", file=sys.stderr, flush=True)
    await run_until_signalled(stop, [server], connections, "gateway")
    return 0


# --------------------------------------------------------------------------- client mode


def _client_context(args: argparse.Namespace) -> Context:
    ctx = Context(Purpose.SERVER_AUTH)
    if args.insecure:
        print("ferrotls gateway: WARNING: --insecure: the upstream's certificate is NOT verified",
              file=sys.stderr, flush=True)
        ctx.check_hostname = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx.verify_mode = CERT_NONE
    elif args.ca:
        ctx.load_verify_locations(cafile=args.ca)
    else:
        ctx.load_default_certs()
    certs: list[str] = args.cert or []
    keys: list[str] = args.key or []
    if len(certs) > 1 or len(keys) > 1 or (keys and not certs):
        raise ValueError("--client takes at most one --cert (and its --key)")
    if certs:
        ctx.load_cert_chain(certs[0], keys[0] if keys else None)
    apply_common(ctx, args)
    ctx.config  # noqa: B018
    return ctx


async def _run_client_mode(args: argparse.Namespace, ctx: Context) -> int:
    host, port = parse_hostport(args.accept)
    uhost, uport = parse_hostport(args.connect)
    server_name = args.servername or uhost
    target = f"{uhost}:{uport} (TLS, {server_name})"
    connections: set[asyncio.StreamWriter] = set()
    stop = stop_on_signals()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stats = _Stats(describe_peer(writer.get_extra_info("peername")), time.monotonic())
        connections.add(writer)
        try:
            try:
                u_reader, u_writer = await asyncio.wait_for(
                    open_connection(uhost, uport, context=ctx, server_hostname=server_name,
                                    ssl_handshake_timeout=args.handshake_timeout,
                                    ssl_shutdown_timeout=5.0),
                    args.handshake_timeout + CONNECT_TIMEOUT)
            except (OSError, TLSError, TimeoutError) as exc:
                stats.reasons.append(f"upstream failed: {failure_reason(exc)}")
                await _close(writer)
                stats.log(target)
                return
            info: HandshakeComplete = u_writer.get_extra_info("ferrotls_connection").info
            stats.identity = peer_identity(info)
            connections.add(u_writer)
            try:
                await pipe((reader, writer), (u_reader, u_writer), stats)
            finally:
                connections.discard(u_writer)
                stats.log(target)
        finally:
            connections.discard(writer)

    server = await asyncio.start_server(handler, host, port)
    addr = print_listening(server)
    print(f"ferrotls gateway: plaintext {addr} -> TLS {target}", file=sys.stderr, flush=True)
    await run_until_signalled(stop, [server], connections, "gateway")
    return 0


# --------------------------------------------------------------------------- command


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``ferrotls gateway``."""
    p.add_argument("--accept", metavar="HOST:PORT", help="where to listen")
    p.add_argument("--connect", metavar="HOST:PORT", help="where to forward to")
    p.add_argument("--accept-dtls", metavar="HOST:PORT", help="listen for DTLS 1.3 over UDP (with --connect-udp)")
    p.add_argument("--connect-udp", metavar="HOST:PORT",
                   help="--accept-dtls: forward each datagram as plaintext UDP (a socket per session)")
    p.add_argument("--mtu", type=int, default=1200, help="--accept-dtls: UDP payload per datagram (default 1200)")
    p.add_argument("--client", action="store_true",
                   help="plaintext in, TLS out (default: TLS in, plaintext out)")
    p.add_argument("--servername", metavar="NAME", help="--client: SNI and name to verify")
    p.add_argument("--insecure", action="store_true",
                   help="--client: DANGEROUS: do not verify the upstream's certificate")
    p.add_argument("--handshake-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="drop connections whose TLS handshake takes longer (default 10)")
    add_server_tls_arguments(p)


def main(args: argparse.Namespace) -> int:
    """``ferrotls gateway``."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="ferrotls gateway: %(message)s")
    if args.accept_dtls:
        try:
            if not args.connect_udp:
                raise ValueError("--accept-dtls needs --connect-udp (TLS upstream over TCP is not implemented yet)")
            accept, target = parse_hostport(args.accept_dtls), parse_hostport(args.connect_udp)
            ctx = build_server_context(args)
        except (ValueError, OSError, TLSError) as exc:
            print(f"ferrotls gateway: {exc}", file=sys.stderr)
            return 2
        from ..config import ServerConfig
        from .dtls_gateway import run_dtls_gateway

        config = ctx.config
        assert isinstance(config, ServerConfig)
        return run_dtls_gateway(args, config, accept, target)
    try:
        if not args.accept or not args.connect:
            raise ValueError("give --accept and --connect (or --accept-dtls and --connect-udp)")
        parse_hostport(args.accept)
        parse_hostport(args.connect)
        if args.client:
            ctx = _client_context(args)
            runner: Any = _run_client_mode
        else:
            ctx = build_server_context(args)
            runner = _run_server_mode
    except (ValueError, OSError, TLSError) as exc:
        print(f"ferrotls gateway: {exc}", file=sys.stderr)
        return 2
    try:
        result: int = asyncio.run(runner(args, ctx))
    except OSError as exc:
        print(f"ferrotls gateway: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return result
