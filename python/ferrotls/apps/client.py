"""``ferrotls client HOST:PORT``: a TLS 1.3 client for the terminal, like ``openssl s_client``.

It connects, runs the handshake, prints a summary to stderr (version, suite,
group, ALPN, the peer's chain with subjects and validity, the verification
result, the handshake time and its bytes on the wire), then copies stdin to the
connection and the connection to stdout.  End of stdin sends close_notify (TLS
1.3 half-close) and the client keeps reading until the server closes, so::

    printf 'GET / HTTP/1.0\\r\\n\\r\\n' | ferrotls client 127.0.0.1:8443 --ca ca.pem

prints the response and exits 0.  stdin and the socket are interleaved (the
socket is non-blocking), so ``< big.bin`` behaves as ``cat big.bin |`` does, even
against a server that answers while the client is still sending.  A failed
connection, handshake or verification, or a wait for the server with no byte
either way for ``--timeout`` seconds, exits 1 with the reason on stderr; bad
options exit 2.
"""

from __future__ import annotations

import argparse
import os
import selectors
import socket
import sys
import time
import warnings
from typing import Any

from .server import add_common_tls_arguments, apply_common, handshake_fields
from ..context import CERT_NONE, Context, Purpose
from ..errors import AlertReceived, ProtocolError, TLSError, TruncationError, UsageError
from ..events import ApplicationData, ConnectionClosed, HandshakeComplete

__all__ = ["add_arguments", "build_client_context", "main", "parse_hostport"]


def parse_hostport(text: str, default_port: int | None = None) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` (or just ``host`` with a default port)."""
    host, sep, port = text.rpartition(":")
    if not sep or (host.count(":") and not host.startswith("[")):
        if default_port is None:
            raise ValueError(f"expected HOST:PORT, got {text!r}")
        host, port = text, str(default_port)
    host = host.strip("[]")
    if not host:
        raise ValueError(f"no host in {text!r}")
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"bad port in {text!r}") from None
    if not 0 <= number < 65536:
        raise ValueError(f"port out of range in {text!r}")
    return host, number


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``ferrotls client``."""
    p.add_argument("target", metavar="HOST:PORT", help="server to connect to")
    p.add_argument("--ca", metavar="PEM", help="trust these CA certificates (default: the system store)")
    p.add_argument("--cert", metavar="PEM", help="client certificate chain (sent if the server asks)")
    p.add_argument("--key", metavar="PEM", help="client private key (default: in the --cert file)")
    p.add_argument("--servername", metavar="NAME",
                   help="SNI and the name the certificate must match (default: HOST)")
    p.add_argument("--insecure", action="store_true",
                   help="DANGEROUS: accept any server certificate (no chain or name check)")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="print only application data (no summary, no notes)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                   help="bound for TCP connect, the handshake, and any wait for the server "
                        "afterwards: no byte either way for this long exits 1 (default 10)")
    add_common_tls_arguments(p)
    from .dtls_cli import add_client_arguments

    add_client_arguments(p)


def build_client_context(args: argparse.Namespace) -> Context:
    ctx = Context(Purpose.SERVER_AUTH)
    if args.insecure:
        ctx.check_hostname = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # we print our own, louder warning
            ctx.verify_mode = CERT_NONE
    elif args.ca:
        ctx.load_verify_locations(cafile=args.ca)
    else:
        ctx.load_default_certs()
    if args.key and not args.cert:
        raise ValueError("--key needs --cert")
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    apply_common(ctx, args)
    ctx.config  # noqa: B018 - configuration errors surface now
    return ctx


def _chain_lines(info: HandshakeComplete) -> list[str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    lines = ["Peer certificate chain:"]
    if not info.peer_certificates:
        lines.append("  (none)")
    for i, der in enumerate(info.peer_certificates):
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError:
            lines.append(f"  {i} (unparsable, {len(der)} bytes)")
            continue
        fp = cert.fingerprint(hashes.SHA256()).hex(":").upper()
        lines.append(f"  {i} subject: {cert.subject.rfc4514_string()}")
        lines.append(f"    issuer : {cert.issuer.rfc4514_string()}")
        lines.append(f"    valid  : {cert.not_valid_before_utc:%Y-%m-%d %H:%M:%S} UTC "
                     f"to {cert.not_valid_after_utc:%Y-%m-%d %H:%M:%S} UTC")
        lines.append(f"    sha256 : {fp}")
    return lines


def _summary(args: argparse.Namespace, info: HandshakeComplete, target: str, server_name: str,
             elapsed: float, sent: int, received: int) -> str:
    lines = [f"--- ferrotls client: connected to {target} (server name {server_name})"]
    fields = handshake_fields(info)
    width = max(len(k) for k, _ in fields)
    lines += [f"{k:<{width}} : {v}" for k, v in fields if k != "SNI"]
    lines += _chain_lines(info)
    if info.psk_identity is not None and not info.peer_certificates:
        name = info.psk_identity.decode("utf-8", "backslashreplace")
        verdict = f"external PSK {name!r}: the server proved it holds the key (no certificate)"
    elif args.insecure:
        verdict = "NOT VERIFIED (--insecure): the server's identity was not checked"
    else:
        anchors = f"CA file {args.ca}" if args.ca else "the system trust store"
        verdict = f"OK: chain verified against {anchors}; certificate matches {server_name!r}"
    lines.append(f"Verification : {verdict}")
    lines.append(f"Handshake    : {elapsed * 1e3:.1f} ms; {sent} bytes sent, {received} bytes received")
    lines.append("---")
    return "\n".join(lines)


_STDIN_CHUNK = 65536
"""Bytes read from stdin at a time."""
_HIGH_WATER = 1 << 20
"""Stop reading stdin while this much protected output waits for the socket."""
_RECV_SIZE = 262144


class _Stalled(Exception):
    """Nothing moved to or from the server for --timeout seconds while waiting for it."""


class _Session:
    """The sans-I/O connection over a socket, with byte counters.

    During the handshake the socket blocks (bounded by its timeout) and
    :meth:`flush` sends everything.  For the relay it is non-blocking: protected
    output queues in ``pending`` and :meth:`send_some` moves what the socket takes.
    """

    def __init__(self, conn: Any, sock: socket.socket) -> None:
        self.conn = conn
        self.sock = sock
        self.sent = 0
        self.received = 0
        self.out = sys.stdout.buffer
        self.pending = bytearray()
        self.nonblocking = False

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if self.nonblocking:
            self.pending += data
            self.send_some()
        elif data:
            self.sock.sendall(data)
            self.sent += len(data)

    def send_some(self) -> int:
        """Send what the non-blocking socket takes now; the number of bytes sent."""
        total = 0
        while self.pending:
            try:
                n = self.sock.send(self.pending)
            except (BlockingIOError, InterruptedError):
                break
            del self.pending[:n]
            total += n
        self.sent += total
        return total

    def drain(self, timeout: float) -> None:
        """Send what is queued, waiting at most ``timeout`` seconds (errors ignored)."""
        try:
            self.pending += self.conn.data_to_send()
        except TLSError:
            pass
        if not self.pending:
            return
        try:
            self.sock.settimeout(timeout)
            self.sock.sendall(self.pending)
            self.sent += len(self.pending)
            self.pending.clear()
        except OSError:
            pass

    def feed(self, data: bytes) -> None:
        self.received += len(data)
        try:
            self.conn.receive_data(data)
        finally:
            try:
                self.flush()
            except OSError:
                pass


def _fail(args: argparse.Namespace, what: str, exc: BaseException) -> int:
    reason = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ProtocolError):
        reason += f" (sent alert {exc.description.name.lower()})"
    print(f"ferrotls client: {what}: {reason}", file=sys.stderr, flush=True)
    return 1


def main(args: argparse.Namespace) -> int:
    """``ferrotls client``."""
    try:
        host, port = parse_hostport(args.target)
        ctx = build_client_context(args)
    except (ValueError, OSError, TLSError) as exc:
        print(f"ferrotls client: {exc}", file=sys.stderr)
        return 2
    if args.insecure:
        print("ferrotls client: WARNING: --insecure: certificate verification is OFF; "
              "anyone on the path can impersonate the server", file=sys.stderr, flush=True)
    server_name = args.servername or host
    target = f"{host}:{port}"
    if getattr(args, "dtls", False):
        from ..config import ClientConfig
        from .dtls_cli import run_client

        config = ctx.config
        assert isinstance(config, ClientConfig)
        return run_client(args, config, host, port, server_name)
    try:
        sock = socket.create_connection((host, port), timeout=args.timeout)
    except OSError as exc:
        return _fail(args, f"cannot connect to {target}", exc)
    with sock:
        return _run(args, ctx, sock, target, server_name)


def _run(args: argparse.Namespace, ctx: Context, sock: socket.socket, target: str,
         server_name: str) -> int:
    session = _Session(ctx.new_connection(server_name), sock)
    conn = session.conn
    start = time.perf_counter()
    try:
        session.flush()
        while not conn.handshake_complete:
            data = sock.recv(65536)
            session.feed(data)
            if not data and not conn.handshake_complete:
                raise TruncationError("the server closed the connection during the handshake")
    except (TLSError, OSError) as exc:
        return _fail(args, "handshake failed", exc)
    elapsed = time.perf_counter() - start
    info: HandshakeComplete = conn.info
    if not args.quiet:
        print(_summary(args, info, target, server_name, elapsed, session.sent, session.received),
              file=sys.stderr, flush=True)
    sock.setblocking(False)
    session.nonblocking = True
    try:
        return _relay(args, session)
    except _Stalled:
        print(f"ferrotls client: connection stalled: no bytes to or from the server for "
              f"{args.timeout:g} s while waiting for it (--timeout); giving up",
              file=sys.stderr, flush=True)
        return 1
    except (TLSError, OSError) as exc:
        session.drain(min(args.timeout, 1.0))  # the alert, if there is one
        if isinstance(exc, AlertReceived) and int(exc.description) == 116 and not args.quiet:
            print("ferrotls client: the server requires a client certificate (--cert/--key)",
                  file=sys.stderr)
        return _fail(args, "connection failed", exc)


def _drain_events(session: _Session) -> bool:
    """Write application data to stdout; True once the peer's close_notify arrived."""
    closed = False
    for event in session.conn.events():
        if isinstance(event, ApplicationData):
            session.out.write(event.data)
        elif isinstance(event, ConnectionClosed):
            closed = True
    session.out.flush()
    return closed


class _Stdin:
    """stdin as a source of chunks: a pipe or tty is polled, a regular file (or
    /dev/null, which epoll refuses) is always readable."""

    def __init__(self, sel: selectors.BaseSelector) -> None:
        self.sel = sel
        try:
            self.fd = sys.stdin.fileno() if sys.stdin is not None else -1
        except (OSError, ValueError):  # replaced by something without a descriptor
            self.fd = -1
        self.open = self.fd >= 0
        self.pollable = False
        self.registered = False
        if self.open:
            try:
                sel.register(self.fd, selectors.EVENT_READ, "stdin")
                self.pollable = self.registered = True
            except (PermissionError, ValueError, OSError):
                pass

    def want(self, wanted: bool) -> None:
        """Poll stdin only while we would read it (no unbounded buffering)."""
        wanted = wanted and self.open and self.pollable
        if wanted and not self.registered:
            self.sel.register(self.fd, selectors.EVENT_READ, "stdin")
        elif not wanted and self.registered:
            self.sel.unregister(self.fd)
        self.registered = wanted

    def read(self) -> bytes:
        """One bounded chunk; b"" (and closed) at end of input."""
        chunk = os.read(self.fd, _STDIN_CHUNK)
        if not chunk:
            self.want(False)
            self.open = False
        return chunk


def _relay(args: argparse.Namespace, session: _Session) -> int:
    """Copy stdin to the connection and the connection to stdout, interleaved.

    The socket is non-blocking and always polled for reading, so a server that
    answers while we are still sending (an echo server) is read as we go.  stdin is
    read in bounded chunks, and only while less than ``_HIGH_WATER`` bytes wait for
    the socket.  While we wait for the server -- output it does not take, or stdin
    at its end -- ``--timeout`` seconds without a byte either way raise _Stalled.
    """
    conn, sock = session.conn, session.sock
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ, "sock")
    stdin = _Stdin(sel)
    if not stdin.open:
        _half_close(session)
    if _drain_events(session):  # data that came with the handshake's last flight
        return _finish(args, session, clean=True)
    sock_events = selectors.EVENT_READ
    deadline: float | None = None
    while True:
        room = len(session.pending) < _HIGH_WATER
        stdin.want(room)
        read_file = room and stdin.open and not stdin.pollable
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if session.pending else 0)
        if events != sock_events:
            sel.modify(sock, events)
            sock_events = events
        waiting = bool(session.pending) or not stdin.open
        if not waiting:
            deadline = None
        elif deadline is None:
            deadline = time.monotonic() + args.timeout
        if read_file:
            timeout: float | None = 0
        elif deadline is not None:
            timeout = max(0.0, deadline - time.monotonic())
        else:
            timeout = None
        before = (session.sent, session.received)
        for key, mask in sel.select(timeout):
            if key.data == "stdin":
                _send_stdin(session, stdin)
                continue
            if mask & selectors.EVENT_WRITE:
                session.send_some()
            if not mask & selectors.EVENT_READ:
                continue
            try:
                data = sock.recv(_RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                continue
            if not data:
                try:
                    session.feed(b"")
                except TruncationError:
                    _drain_events(session)
                    return _finish(args, session, clean=False)
            else:
                session.feed(data)
            if _drain_events(session) or conn.peer_closed:
                return _finish(args, session, clean=True)
            if not data:
                return _finish(args, session, clean=False)
        if read_file:
            _send_stdin(session, stdin)
        if (session.sent, session.received) != before:
            deadline = None
        elif deadline is not None and time.monotonic() >= deadline:
            raise _Stalled


def _send_stdin(session: _Session, stdin: _Stdin) -> None:
    chunk = stdin.read()
    if chunk:
        session.conn.send(chunk)
        session.flush()
    else:
        _half_close(session)


def _half_close(session: _Session) -> None:
    """End of stdin: send close_notify, keep reading (TLS 1.3 half-close)."""
    try:
        session.conn.close()
        session.flush()
    except (UsageError, OSError):
        pass


def _finish(args: argparse.Namespace, session: _Session, *, clean: bool) -> int:
    try:
        session.conn.close()
    except TLSError:
        pass
    session.drain(args.timeout)
    if not args.quiet:
        how = "close_notify" if clean else "TCP close without close_notify (possible truncation)"
        print(f"ferrotls client: connection closed by the server ({how}); "
              f"{session.sent} bytes sent, {session.received} bytes received in total",
              file=sys.stderr, flush=True)
    return 0

