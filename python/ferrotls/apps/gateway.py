"""``ferrotls gateway``: a TLS-terminating forwarder, like stunnel.

* Default (server mode): TLS in on ``--accept``, plaintext out to ``--connect``.
* ``--client``: plaintext in on ``--accept``, TLS out to the upstream TLS server
  ``--connect`` (``--ca``/``--servername``/``--insecure``/``--cert``/``--key`` apply).
* ``--accept-dtls``: DTLS in from devices, out as plaintext UDP (``--connect-udp``)
  or as length-prefixed messages over TLS (``--connect``, verified with
  ``--upstream-ca``/``--servername``/``--insecure``): :mod:`ferrotls.apps.dtls_gateway`.

``--workers N`` runs N processes (:mod:`ferrotls.apps.fleet`); in each, every
connection runs in the same asyncio loop.  In server mode the two sides are
plain asyncio Protocols joined by a ``_Pipe`` (no streams, no copier tasks):
bytes go from one transport's ``data_received`` straight to the other's
``write``, and a full write buffer pauses reading on the other side.  Each
connection ends with one log line
(stderr): peer address, identity (client certificate subject or PSK identity,
in server mode; the upstream's certificate subject in client mode), bytes each
way, duration and the close reason.  A TLS client that does not finish its
handshake within ``--handshake-timeout`` (default 10 s) is dropped; an
unreachable or vanished backend gives the TLS client a clean close
(close_notify); a reset on one side aborts only that connection.  SIGTERM and
SIGINT drain (``--drain-timeout``), SIGHUP reloads certificates and ticket keys.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

from .client import parse_hostport
from .dtls_cli import dtls_versions
from .fleet import Endpoint, SharedState, run_fleet, worker_index
from .server import (
    AcceptedTLS,
    StreamConnection,
    add_server_tls_arguments,
    apply_common,
    build_server_context,
    describe_peer,
    failure_reason,
    peer_identity,
    setup_logging,
    shared_state,
    throwaway_pki,
)
from ..context import CERT_NONE, Context, Purpose
from ..dtls.config import DTLS_1_2, DTLS_1_3
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
#
# The TLS side and the backend side are two asyncio Protocols sharing one
# _Pipe: bytes go straight from one transport's data_received to the other's
# write (no StreamReader, no copier tasks, no wait_for); backpressure is
# pause_reading on one side when the other side's write buffer is full.  The
# only task per connection is the backend connect.


class _LogBatch:
    """Connection log lines, written to stderr once per event-loop turn."""

    def __init__(self, loop: asyncio.AbstractEventLoop, prefix: str) -> None:
        self.loop = loop
        self.prefix = prefix
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        if not self.lines:
            self.loop.call_soon(self.flush)
        self.lines.append(self.prefix + line)

    def flush(self) -> None:
        lines, self.lines = self.lines, []
        if lines:
            try:
                sys.stderr.write("\n".join(lines) + "\n")
                sys.stderr.flush()
            except (OSError, ValueError):
                pass


class _Gateway:
    """What the connections of one worker share."""

    def __init__(self, args: argparse.Namespace, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.bhost, self.bport = parse_hostport(args.connect)
        self.target = f"{self.bhost}:{self.bport}"
        self.handshake_timeout = args.handshake_timeout
        self.log: _LogBatch | None = None
        if logger.isEnabledFor(logging.INFO):
            self.log = _LogBatch(loop, "ferrotls gateway: ")
        self.pipes: set[_Pipe] = set()
        index = worker_index()
        self.worker = "" if index is None else f" worker={index}"

    def on_failure(self, peer: str, exc: BaseException) -> None:
        if self.log is not None:
            what = "handshake timed out" if isinstance(exc, TimeoutError) else "handshake failed"
            self.log.add(f"{peer} -> {self.target} identity=-{self.worker} up=0 down=0 "
                         f"close={what}: {failure_reason(exc)}")


class _Pipe(asyncio.Protocol):
    """The application protocol on the TLS transport, and the backend connection's owner."""

    __slots__ = ("backend", "backend_eof", "backend_gone", "client_eof", "connect", "down", "gw",
                 "pending", "reasons", "start", "tls", "tls_gone", "tls_proto", "up")

    def __init__(self, gw: _Gateway) -> None:
        self.gw = gw
        self.tls: asyncio.Transport | None = None
        self.tls_proto: AcceptedTLS | None = None
        self.backend: asyncio.Transport | None = None
        self.connect: asyncio.Task[Any] | None = None
        self.pending: list[bytes] | None = None
        self.up = self.down = 0
        self.reasons: list[str] = []
        self.client_eof = self.backend_eof = False
        self.tls_gone = self.backend_gone = False  # both: log and forget
        self.start = 0.0

    # -- Drainable ---------------------------------------------------------------

    def close(self) -> None:
        """Close both sides cleanly: close_notify to the client, FIN to the backend."""
        if self.tls is not None:
            self.tls.close()
        if self.backend is not None:
            self.backend.close()
        elif self.connect is not None:
            self.connect.cancel()

    def abort(self) -> None:
        if self.tls is not None:
            self.tls.abort()
        if self.backend is not None:
            self.backend.abort()
        elif self.connect is not None:
            self.connect.cancel()

    # -- the TLS side --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """The handshake is done: connect to the backend."""
        gw = self.gw
        self.tls = transport  # type: ignore[assignment]
        tls = self.tls_proto
        assert tls is not None
        self.start = tls.accepted_at
        gw.pipes.add(self)
        self.pending = []
        transport.pause_reading()  # type: ignore[attr-defined]
        self.connect = gw.loop.create_task(self._connect())

    async def _connect(self) -> None:
        gw = self.gw
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await gw.loop.create_connection(lambda: _BackendSide(self), gw.bhost, gw.bport)
        except (OSError, TimeoutError) as exc:
            self.reasons.append(f"backend unreachable: {type(exc).__name__}: {exc}")
            if self.tls is not None:
                self.tls.close()  # a clean close for the client
            self._side_gone(backend=True)  # it never existed
        except asyncio.CancelledError:
            if self.backend is None:  # else its connection_lost reports
                self._side_gone(backend=True)
        finally:
            self.connect = None

    def backend_up(self, transport: asyncio.Transport) -> None:
        self.backend = transport
        pending, self.pending = self.pending, None
        if pending:
            transport.write(b"".join(pending))
        if self.client_eof:
            transport.write_eof()
        tls = self.tls
        if tls is not None and not tls.is_closing():
            tls.resume_reading()

    def data_received(self, data: bytes) -> None:
        self.up += len(data)
        backend = self.backend
        if backend is not None:
            backend.write(data)
        elif self.pending is not None:
            self.pending.append(data)

    def eof_received(self) -> bool:
        """The client's close_notify: pass it on as a FIN; keep sending to the client."""
        self.client_eof = True
        self.reasons.append("client closed")
        backend = self.backend
        if backend is not None and not backend.is_closing():
            try:
                backend.write_eof()
            except OSError:
                pass
        return True

    def connection_lost(self, exc: BaseException | None) -> None:
        if exc is not None:
            self.reasons.append(f"client error: {failure_reason(exc)}")
        backend = self.backend
        if backend is not None:
            if exc is not None:
                backend.abort()
            else:
                backend.close()
        elif self.connect is not None:
            self.connect.cancel()
        self.tls = None
        self._side_gone(backend=False)

    def pause_writing(self) -> None:  # the client is slow: stop reading the backend
        if self.backend is not None:
            self.backend.pause_reading()

    def resume_writing(self) -> None:
        if self.backend is not None and not self.backend.is_closing():
            self.backend.resume_reading()

    def _side_gone(self, *, backend: bool) -> None:
        if backend:
            self.backend_gone = True
        else:
            self.tls_gone = True
        if not (self.backend_gone and self.tls_gone) or self.tls_proto is None:
            return
        gw = self.gw
        gw.pipes.discard(self)
        if gw.log is not None:
            tls = self.tls_proto
            info = tls.connection.info if tls is not None else None
            identity = peer_identity(info) or "-"
            gw.log.add(
                f"{tls.peer if tls else '?'} -> {gw.target} identity={identity}{gw.worker} "
                f"up={self.up} down={self.down} duration={time.monotonic() - self.start:.3f}s "
                f"close={'; '.join(self.reasons) or '?'}"
            )
        self.tls_proto = None


class _BackendSide(asyncio.Protocol):
    """The plaintext connection to the backend."""

    __slots__ = ("pipe",)

    def __init__(self, pipe: _Pipe) -> None:
        self.pipe = pipe

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.pipe.backend_up(transport)  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:
        pipe = self.pipe
        pipe.down += len(data)
        tls = pipe.tls
        if tls is not None:
            tls.write(data)

    def eof_received(self) -> bool:
        """The backend's FIN: close_notify to the client (the client may still send)."""
        pipe = self.pipe
        pipe.backend_eof = True
        pipe.reasons.append("backend closed")
        tls = pipe.tls
        if tls is not None and not tls.is_closing():
            tls.write_eof()
        if pipe.client_eof:
            return False  # both directions done: close
        return True

    def connection_lost(self, exc: BaseException | None) -> None:
        pipe = self.pipe
        if exc is not None:
            pipe.reasons.append(f"backend error: {failure_reason(exc)}")
        pipe.backend = None
        tls = pipe.tls
        if tls is not None and (exc is not None or not pipe.backend_eof):
            tls.close()  # the client always gets close_notify
        pipe._side_gone(backend=True)

    def pause_writing(self) -> None:  # the backend is slow: stop reading the client
        tls = self.pipe.tls
        if tls is not None:
            tls.pause_reading()

    def resume_writing(self) -> None:
        tls = self.pipe.tls
        if tls is not None and not tls.is_closing():
            tls.resume_reading()


def _no_cpu_clock() -> float:
    """The handshakes' cpu_clock in the gateway: HandshakeStats.cpu stays 0."""
    return 0.0


def _server_endpoint(args: argparse.Namespace) -> Endpoint:
    host, port = parse_hostport(args.accept)
    shared = shared_state(args)
    pki = throwaway_pki(args, ())

    def rebuild() -> Context:
        ctx = build_server_context(args, (), shared, pki)
        # Nothing here reads a handshake's CPU seconds, and time.process_time is a
        # system call (no vDSO) that the handshake makes twice per call it serves:
        # 16 % of the gateway's samples at 64 clients (docs/deployment.md).
        ctx.set_options(cpu_clock=_no_cpu_clock)
        ctx.config  # noqa: B018
        return ctx

    state: list[_Gateway] = []

    async def start(current: Callable[[], Context], sock: socket.socket) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        gw = _Gateway(args, loop)
        state.append(gw)

        def factory() -> AcceptedTLS:
            pipe = _Pipe(gw)
            tls = AcceptedTLS(loop, pipe, current(), handshake_timeout=gw.handshake_timeout,
                              on_failure=gw.on_failure)
            pipe.tls_proto = tls
            return tls

        return await loop.create_server(factory, sock=sock, backlog=1024)

    def connections() -> set[_Pipe]:
        return state[0].pipes if state else set()

    bhost, bport = parse_hostport(args.connect)

    def announce(addr: str) -> None:
        print(f"ferrotls gateway: TLS {addr} -> plaintext {bhost}:{bport}", file=sys.stderr,
              flush=True)

    return Endpoint("gateway", host, port, rebuild(), rebuild, start, connections, shared, announce)


# --------------------------------------------------------------------------- client mode


def _upstream_context(args: argparse.Namespace, cafile: str | None) -> Context:
    """A client Context that verifies the upstream against ``cafile`` (else the system
    store), or not at all with --insecure (and a warning)."""
    ctx = Context(Purpose.SERVER_AUTH)
    if args.insecure:
        print("ferrotls gateway: WARNING: --insecure: the upstream's certificate is NOT verified",
              file=sys.stderr, flush=True)
        ctx.check_hostname = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx.verify_mode = CERT_NONE
    elif cafile:
        ctx.load_verify_locations(cafile=cafile)
    else:
        ctx.load_default_certs()
    return ctx


def _client_context(args: argparse.Namespace) -> Context:
    ctx = _upstream_context(args, args.ca)
    certs: list[str] = args.cert or []
    keys: list[str] = args.key or []
    if len(certs) > 1 or len(keys) > 1 or (keys and not certs):
        raise ValueError("--client takes at most one --cert (and its --key)")
    if certs:
        ctx.load_cert_chain(certs[0], keys[0] if keys else None)
    apply_common(ctx, args)
    ctx.config  # noqa: B018
    return ctx


def _client_endpoint(args: argparse.Namespace) -> Endpoint:
    host, port = parse_hostport(args.accept)
    uhost, uport = parse_hostport(args.connect)
    server_name = args.servername or uhost
    target = f"{uhost}:{uport} (TLS, {server_name})"
    connections: set[StreamConnection] = set()

    async def start(current: Callable[[], Context], sock: socket.socket) -> asyncio.Server:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            stats = _Stats(describe_peer(writer.get_extra_info("peername")), time.monotonic())
            mine = StreamConnection(writer)
            connections.add(mine)
            theirs: StreamConnection | None = None
            try:
                try:
                    u_reader, u_writer = await asyncio.wait_for(
                        open_connection(uhost, uport, context=current(),
                                        server_hostname=server_name,
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
                theirs = StreamConnection(u_writer)
                connections.add(theirs)
                try:
                    await pipe((reader, writer), (u_reader, u_writer), stats)
                finally:
                    stats.log(target)
            finally:
                connections.discard(mine)
                if theirs is not None:
                    connections.discard(theirs)

        return await asyncio.start_server(handler, sock=sock, backlog=1024)

    def announce(addr: str) -> None:
        print(f"ferrotls gateway: plaintext {addr} -> TLS {target}", file=sys.stderr, flush=True)

    # no TLS server here: nothing for the workers to share
    return Endpoint("gateway", host, port, _client_context(args), lambda: _client_context(args),
                    start, lambda: connections, SharedState(None, None), announce)


# --------------------------------------------------------------------------- command


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``ferrotls gateway``."""
    p.add_argument("--accept", metavar="HOST:PORT", help="where to listen")
    p.add_argument("--connect", metavar="HOST:PORT", help="where to forward to")
    p.add_argument("--accept-dtls", metavar="HOST:PORT",
                   help="listen for DTLS 1.3 / 1.2 over UDP (with --connect-udp, or --connect for TLS over TCP)")
    p.add_argument("--connect-udp", metavar="HOST:PORT",
                   help="--accept-dtls: forward each datagram as plaintext UDP (a socket per session)")
    p.add_argument("--mtu", type=int, default=1200, help="--accept-dtls: UDP payload per datagram (default 1200)")
    p.add_argument("--dtls-version", type=dtls_versions, default=(DTLS_1_3, DTLS_1_2), metavar="1.3|1.2|1.3,1.2",
                   help="--accept-dtls: DTLS versions to answer (default both)")
    p.add_argument("--client", action="store_true",
                   help="plaintext in, TLS out (default: TLS in, plaintext out)")
    p.add_argument("--servername", metavar="NAME",
                   help="--client, --accept-dtls --connect: the upstream's SNI and name to verify")
    p.add_argument("--insecure", action="store_true",
                   help="--client, --accept-dtls --connect: DANGEROUS: do not verify the upstream's certificate")
    p.add_argument("--upstream-ca", metavar="PEM",
                   help="--accept-dtls --connect: CA certificates the TLS upstream must chain to "
                        "(default: the system store)")
    p.add_argument("--handshake-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="drop connections whose TLS handshake takes longer (default 10)")
    add_server_tls_arguments(p)


def _dtls_upstream_context(args: argparse.Namespace) -> Context:
    """The client Context of ``--accept-dtls --connect``'s TLS connections."""
    ctx = _upstream_context(args, args.upstream_ca)
    if args.backend:
        ctx.backend = args.backend
    ctx.config  # noqa: B018 - configuration errors surface now
    return ctx


def _dtls_main(args: argparse.Namespace) -> int:
    try:
        if bool(args.connect_udp) == bool(args.connect):
            raise ValueError("--accept-dtls needs --connect-udp HOST:PORT (plaintext UDP) or --connect "
                             "HOST:PORT (TLS over TCP), one of them")
        if args.client:
            raise ValueError("--client does not apply to --accept-dtls")
        accept = parse_hostport(args.accept_dtls)
        target = parse_hostport(args.connect_udp or args.connect)
        ctx = build_server_context(args)
        upstream = _dtls_upstream_context(args) if args.connect else None
    except (ValueError, OSError, TLSError) as exc:
        print(f"ferrotls gateway: {exc}", file=sys.stderr)
        return 2
    from ..config import ServerConfig
    from .dtls_gateway import run_dtls_gateway, run_dtls_tls_gateway

    config = ctx.config
    assert isinstance(config, ServerConfig)
    if upstream is not None:
        return run_dtls_tls_gateway(args, config, accept, target, upstream)
    return run_dtls_gateway(args, config, accept, target)


def main(args: argparse.Namespace) -> int:
    """``ferrotls gateway``."""
    setup_logging("gateway", args)
    if args.accept_dtls:
        return _dtls_main(args)
    try:
        if not args.accept or not args.connect:
            raise ValueError("give --accept and --connect (or --accept-dtls and --connect-udp)")
        parse_hostport(args.accept)
        parse_hostport(args.connect)
        endpoint = _client_endpoint(args) if args.client else _server_endpoint(args)
    except (ValueError, OSError, TLSError) as exc:
        print(f"ferrotls gateway: {exc}", file=sys.stderr)
        return 2
    try:
        return run_fleet(endpoint, args)
    except OSError as exc:
        print(f"ferrotls gateway: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
