"""``ferrotls server``: a TLS 1.3 test server, like ``openssl s_server``.

Two modes:

* default: a small HTTP responder (like ``s_server -www``) answering each
  request with a page describing the connection (protocol, suite, group,
  ALPN, SNI, client certificate subject); ``GET /keyupdate`` is answered
  after a KeyUpdate that asks the client to update too (as tlslite-ng's
  test server does, for tlsfuzzer's test-tls13-keyupdate-from-server);
* ``--echo``: every byte received is sent back; the peer's close_notify ends it.

Serves many connections at once (asyncio, :mod:`ferrotls.transports.aio`);
a failed handshake sends its alert to that peer only and is logged with the
peer's address.  Without ``--cert`` it makes a throw-away CA and certificate
(:func:`ferrotls.apps.testpki.make_test_pki`), prints the certificate's SHA-256
fingerprint and writes the CA to ``--write-ca`` so clients can trust it.
Prints ``listening on HOST:PORT`` (stdout) once ready; SIGINT/SIGTERM close
the listener and the open connections, then the process exits 0.

The pieces shared with ``ferrotls gateway`` live here too:
:func:`add_server_tls_arguments`, :func:`build_server_context`,
:class:`AcceptedTLS` and :func:`serve_tls`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import html
import logging
import signal
import socket
import ssl
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ..context import CERT_OPTIONAL, CERT_REQUIRED, Context, Purpose
from ..errors import TLSError, UnsupportedFeature
from ..events import HandshakeComplete
from ..psk import ExternalPsk
from ..suites import TLS12_SUITES, CipherSuite, NamedGroup, SignatureScheme
from ..transports.aio import TLSProtocol
from .fleet import (
    Endpoint,
    SharedState,
    add_fleet_arguments,
    local_shared_state,
    run_fleet,
    worker_count,
)

TLS12_PSK_SUITES = tuple(code for code, suite in TLS12_SUITES.items() if suite.auth == "PSK")
"""The TLS 1.2 PSK suites ferrotls implements (added to the defaults when a PSK is configured)."""

__all__ = [
    "AcceptedTLS",
    "COMPRESSION_NAMES",
    "add_arguments",
    "add_common_tls_arguments",
    "add_server_tls_arguments",
    "build_server_context",
    "describe_peer",
    "enum_name",
    "handshake_fields",
    "main",
    "psk_of",
    "server_endpoint",
    "setup_logging",
    "shared_state",
    "serve_tls",
    "split_list",
    "stop_on_signals",
]

logger = logging.getLogger("ferrotls.server")

SHUTDOWN_TIMEOUT = 5.0
"""How long a connection waits for the peer's close_notify after ours."""
REQUEST_TIMEOUT = 30.0
"""How long the HTTP responder waits for a request's header."""
MAX_REQUEST_HEAD = 16384
KEYUPDATE_PATH = "/keyupdate"
"""HTTP mode: a request for this path is answered after a KeyUpdate (update_requested)."""


# --------------------------------------------------------------------------- arguments


def split_list(values: list[str] | None) -> list[str]:
    """Repeatable options that also accept comma (or colon) separated lists."""
    out: list[str] = []
    for value in values or ():
        out.extend(v.strip() for v in value.replace(":", ",").split(",") if v.strip())
    return out


def add_common_tls_arguments(p: argparse.ArgumentParser) -> None:
    """Options every TLS endpoint of the command line takes."""
    p.add_argument("--alpn", action="append", metavar="PROTO",
                   help="ALPN protocol (repeatable or a comma list), most preferred first")
    p.add_argument("--groups", metavar="LIST",
                   help="key-exchange groups, most preferred first: X25519MLKEM768, X25519, "
                        "secp256r1 (P-256), secp384r1 (P-384), secp521r1 (P-521), X448")
    p.add_argument("--suites", metavar="LIST",
                   help="TLS 1.3 cipher suites, e.g. TLS_AES_128_GCM_SHA256,TLS_CHACHA20_POLY1305_SHA256")
    p.add_argument("--ciphers", metavar="LIST",
                   help="TLS 1.2 cipher suites, OpenSSL names or an OpenSSL cipher string, e.g. "
                        "ECDHE-ECDSA-AES128-GCM-SHA256:PSK-AES128-GCM-SHA256")
    versions = p.add_mutually_exclusive_group()
    versions.add_argument("--tls1_2", action="store_true", help="TLS 1.2 only")
    versions.add_argument("--tls1_3", action="store_true", help="TLS 1.3 only")
    p.add_argument("--min-version", choices=("1.2", "1.3"), help="lowest TLS version (default 1.2)")
    p.add_argument("--max-version", choices=("1.2", "1.3"),
                   help="highest TLS version (default 1.3)")
    p.add_argument("--allow-no-ems", action="store_true",
                   help="TLS 1.2: let peers without extended_master_secret (RFC 7627) connect, "
                        "with a warning (such sessions are open to the triple-handshake attack "
                        "and are never resumed); default: refuse them")
    p.add_argument("--psk-identity", metavar="ID",
                   help="external pre-shared key identity (with --psk-hex; TLS 1.3 and the TLS 1.2 "
                        "PSK suites)")
    p.add_argument("--psk-hex", "--psk", dest="psk_hex", metavar="KEY",
                   help="the external pre-shared key, in hex (secret!)")
    p.add_argument("--psk-hash", choices=("sha256", "sha384"), default="sha256",
                   help="the hash the external PSK is used with (default sha256)")
    p.add_argument("--keylog", metavar="FILE",
                   help="append SSLKEYLOGFILE lines (traffic secrets!) to FILE")
    p.add_argument("--backend", choices=("native", "python"),
                   help="crypto backend (default: FERROTLS_BACKEND, else native if built)")


def add_server_tls_arguments(p: argparse.ArgumentParser) -> None:
    """Certificate, client-authentication, shared-state and worker options of ``server``
    and ``gateway``."""
    p.add_argument("--cert", action="append", metavar="PEM",
                   help="certificate chain, leaf first (repeatable: e.g. an RSA and an ECDSA one)")
    p.add_argument("--key", action="append", metavar="PEM",
                   help="private key of the --cert at the same position (default: in the --cert file)")
    p.add_argument("--ca", metavar="PEM", help="CA certificates that client certificates must chain to")
    p.add_argument("--verify-client", choices=("none", "optional", "required"), default=None,
                   help="ask for (optional) or insist on (required) a client certificate; "
                        "default: required if --ca is given, else none")
    p.add_argument("--write-ca", metavar="FILE",
                   help="without --cert: write the throw-away CA certificate (PEM) here")
    p.add_argument("--early-data", action="store_true",
                   help="accept 0-RTT early data from resuming clients (replay-checked against the "
                        "strike register shared by every worker, or by the fleet with --redis)")
    p.add_argument("--redis", metavar="URL",
                   help="share session-ticket keys and the 0-RTT strike register with other "
                        "instances through Redis, e.g. redis://127.0.0.1:6379/0 (needs --kek-file)")
    p.add_argument("--kek-file", metavar="PATH",
                   help="--redis: the key-encryption key(s) sealing the ticket keys in Redis "
                        "(64 hex digits per line, the sealing one first)")
    p.add_argument("--quiet", action="store_true",
                   help="no log line per connection (failures and lifecycle are still logged)")
    p.add_argument("--cert-compression", metavar="LIST",
                   help="certificate compression algorithms to offer and accept (RFC 8879), "
                        "most preferred first, e.g. zlib,brotli,zstd (default: none)")
    add_fleet_arguments(p)
    add_common_tls_arguments(p)


_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def psk_of(args: argparse.Namespace) -> ExternalPsk | None:
    """The external PSK of --psk-identity/--psk-hex (both or neither)."""
    identity, key = getattr(args, "psk_identity", None), getattr(args, "psk_hex", None)
    if identity is None and key is None:
        return None
    if identity is None or key is None:
        raise ValueError("--psk-identity and --psk-hex go together")
    try:
        secret = bytes.fromhex(key)
    except ValueError:
        raise ValueError("--psk-hex: not a hex string") from None
    if not secret:
        raise ValueError("--psk-hex: empty key")
    return ExternalPsk(identity.encode("utf-8"), secret, hash_name=getattr(args, "psk_hash", "sha256"))


class OnePsk:
    """A ServerConfig.psk_callback that knows one identity."""

    def __init__(self, psk: ExternalPsk) -> None:
        self.psk = psk

    def __repr__(self) -> str:
        return "OnePsk(<secret>)"

    def __call__(self, identity: bytes) -> ExternalPsk | None:
        return self.psk if hmac.compare_digest(identity, self.psk.identity) else None


def apply_common(ctx: Context, args: argparse.Namespace) -> None:
    """--alpn, --groups, --suites, --ciphers, versions, --allow-no-ems, PSK, --keylog, --backend
    onto a context."""
    alpn = split_list(args.alpn)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if args.groups:
        ctx.set_groups(args.groups)
    if args.suites:
        ctx.set_ciphersuites(args.suites)
    ciphers = getattr(args, "ciphers", None)
    if ciphers:
        try:
            ctx.set_ciphers(ciphers)
        except ssl.SSLError as exc:
            raise ValueError(f"--ciphers {ciphers!r}: {exc.args[-1]}") from None
        except UnsupportedFeature as exc:
            raise ValueError(f"--ciphers {ciphers!r}: {exc}") from None
    low, high = getattr(args, "min_version", None), getattr(args, "max_version", None)
    if getattr(args, "tls1_2", False):
        low = high = "1.2"
    elif getattr(args, "tls1_3", False):
        low = high = "1.3"
    if low:
        ctx.minimum_version = _VERSIONS[low]
    if high:
        ctx.maximum_version = _VERSIONS[high]
    if low and high and _VERSIONS[low] > _VERSIONS[high]:
        raise ValueError(f"--min-version {low} is above --max-version {high}")
    if getattr(args, "allow_no_ems", False):
        ctx.set_options(require_extended_master_secret=False)
    psk = psk_of(args)
    if psk is not None:
        if ctx.server_side:
            ctx.set_options(psk_callback=OnePsk(psk))
        else:
            ctx.set_options(external_psks=(psk,))
        if not ciphers:  # the TLS 1.2 PSK suites join the defaults (a PSK-only peer finds one)
            current = [c["id"] & 0xFFFF for c in ctx.get_ciphers() if c["protocol"] == "TLSv1.2"]
            extra = [s for s in TLS12_PSK_SUITES if s not in current]
            ctx.set_options(tls12_cipher_suites=tuple(current + extra))
    if args.keylog:
        ctx.keylog_filename = args.keylog
    if args.backend:
        ctx.backend = args.backend


def build_server_context(args: argparse.Namespace, names: tuple[str, ...] = (),
                         shared: SharedState | None = None, pki: Any = None) -> Context:
    """A server Context from the parsed options (see :func:`add_server_tls_arguments`).

    Without ``--cert``, a throw-away CA and leaf for ``localhost``, ``127.0.0.1``
    and ``names`` are made (or ``pki``'s, on a reload); the fingerprint goes to
    stderr and the CA to ``--write-ca``.  ``shared`` gives the ticket keys and
    the strike register every worker uses.
    """
    ctx = Context(Purpose.CLIENT_AUTH)
    certs: list[str] = args.cert or []
    keys: list[str] = args.key or []
    if keys and len(keys) != len(certs):
        raise ValueError("give one --key per --cert (or put each key in its --cert file)")
    if certs:
        for i, cert in enumerate(certs):
            ctx.load_cert_chain(cert, keys[i] if keys else None)
    elif pki is not None:
        ctx.add_certified_key(pki.server)
    else:
        from .testpki import make_test_pki

        all_names = tuple(dict.fromkeys(("localhost", "127.0.0.1", *names)))
        pki = make_test_pki(all_names)
        ctx.add_certified_key(pki.server)
        print(f"ferrotls: throw-away certificate for {', '.join(all_names)}; "
              f"SHA-256 fingerprint {pki.fingerprint}", file=sys.stderr, flush=True)
        if args.write_ca:
            Path(args.write_ca).write_bytes(pki.ca_pem)
            print(f"ferrotls: CA certificate written to {args.write_ca}", file=sys.stderr, flush=True)
        else:
            print("ferrotls: (use --write-ca FILE to get the CA certificate clients must trust)",
                  file=sys.stderr, flush=True)
    mode = args.verify_client or ("required" if args.ca else "none")
    if args.ca:
        ctx.load_verify_locations(cafile=args.ca)
    if mode != "none":
        if not args.ca:
            raise ValueError(f"--verify-client {mode} needs --ca to verify client certificates")
        ctx.verify_mode = CERT_REQUIRED if mode == "required" else CERT_OPTIONAL
    apply_common(ctx, args)
    if shared is not None:
        ctx.set_options(ticket_keys=shared.ticket_keys, replay_store=shared.replay_store)
    if getattr(args, "early_data", False):
        ctx.set_options(early_data=True)
    apply_cert_compression(ctx, args)
    ctx.config  # configuration errors surface now  # noqa: B018
    return ctx


#: --cert-compression names -> RFC 8879 CertificateCompressionAlgorithm values.
COMPRESSION_NAMES = {"zlib": 1, "brotli": 2, "zstd": 3}


def apply_cert_compression(ctx: Context, args: argparse.Namespace) -> None:
    """--cert-compression onto a server context."""
    names = split_list([args.cert_compression] if getattr(args, "cert_compression", None) else None)
    if not names:
        return
    from ..certcompress import AVAILABLE

    algorithms: list[int] = []
    for name in names:
        algorithm = COMPRESSION_NAMES.get(name.lower())
        if algorithm is None:
            raise ValueError(f"unknown certificate compression {name!r}: "
                             f"choose from {', '.join(COMPRESSION_NAMES)}")
        if algorithm not in AVAILABLE:
            raise ValueError(f"certificate compression {name} is not available in this process "
                             "(install brotli / zstandard)")
        algorithms.append(algorithm)
    ctx.set_options(certificate_compression=tuple(algorithms))


def shared_state(args: argparse.Namespace) -> SharedState:
    """The ticket keys and strike register of --redis/--kek-file, or this machine's."""
    if getattr(args, "kek_file", None) and not args.redis:
        raise ValueError("--kek-file needs --redis")
    if not args.redis:
        return local_shared_state(worker_count(args))
    if not args.kek_file:
        raise ValueError("--redis needs --kek-file (the key-encryption key for the ticket keys)")
    try:
        from ..shared import read_kek_file, redis_shared_state
        kek = read_kek_file(args.kek_file)
        ring, strikes = redis_shared_state(args.redis, kek, max_ttl=20.0)
    except ImportError as exc:
        raise ValueError(f"--redis needs redis-py (pip install 'ferrotls[redis]'): {exc}") from None
    return SharedState(ring, strikes, redis=True)


def throwaway_pki(args: argparse.Namespace, names: tuple[str, ...]) -> Any:
    """Without --cert: the throw-away PKI (made once, so every worker serves the same)."""
    if args.cert:
        return None
    from .testpki import make_test_pki

    all_names = tuple(dict.fromkeys(("localhost", "127.0.0.1", *names)))
    pki = make_test_pki(all_names)
    print(f"ferrotls: throw-away certificate for {', '.join(all_names)}; "
          f"SHA-256 fingerprint {pki.fingerprint}", file=sys.stderr, flush=True)
    if args.write_ca:
        Path(args.write_ca).write_bytes(pki.ca_pem)
        print(f"ferrotls: CA certificate written to {args.write_ca}", file=sys.stderr, flush=True)
    else:
        print("ferrotls: (use --write-ca FILE to get the CA certificate clients must trust)",
              file=sys.stderr, flush=True)
    return pki


def setup_logging(name: str, args: argparse.Namespace) -> None:
    """Log lines on stderr, ``ferrotls NAME: ...``; the Redis outage/recovery lines too."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format=f"ferrotls {name}: %(message)s")
    logging.getLogger("ferrotls.redis").setLevel(logging.INFO)
    if getattr(args, "quiet", False):
        logging.getLogger(f"ferrotls.{name}").setLevel(logging.WARNING)





# --------------------------------------------------------------------------- describing


def enum_name(kind: Any, value: int | None) -> str:
    if value is None:
        return "(none)"
    try:
        return str(kind(value).name)
    except ValueError:
        return f"0x{value:04x}"


def suite_name(code: int | None) -> str:
    """A TLS 1.3 suite's RFC name, a TLS 1.2 suite's OpenSSL name, or the code point."""
    if code is not None and code in TLS12_SUITES:
        return TLS12_SUITES[code].openssl_name
    return enum_name(CipherSuite, code)


def describe_peer(addr: Any) -> str:
    if isinstance(addr, tuple) and len(addr) >= 2:
        host = f"[{addr[0]}]" if ":" in str(addr[0]) else str(addr[0])
        return f"{host}:{addr[1]}"
    return str(addr)


def peer_identity(info: HandshakeComplete | None) -> str | None:
    """The client certificate's subject, or the external PSK identity, if any."""
    if info is None:
        return None
    if info.peer_certificates:
        from cryptography import x509

        try:
            cert = x509.load_der_x509_certificate(info.peer_certificates[0])
        except ValueError:
            return "(unparsable certificate)"
        return cert.subject.rfc4514_string()
    if info.psk_identity is not None:
        return "psk:" + info.psk_identity.decode("utf-8", "backslashreplace")
    return None


def handshake_fields(info: HandshakeComplete) -> list[tuple[str, str]]:
    """(label, value) lines describing a completed handshake."""
    return [
        ("Protocol", str(info.version)),
        ("Cipher suite", suite_name(info.cipher_suite)),
        ("Group", enum_name(NamedGroup, info.group)),
        ("Signature", enum_name(SignatureScheme, info.signature_scheme)),
        ("ALPN", info.alpn_protocol or "(none)"),
        ("SNI", info.server_name or "(none)"),
        ("Resumed", "yes" if info.resumed else "no"),
    ]


# --------------------------------------------------------------------------- accepting


class AcceptedTLS(TLSProtocol):
    """A server-side TLSProtocol that remembers its peer and reports failed handshakes."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        app_protocol: asyncio.Protocol,
        context: Context,
        *,
        handshake_timeout: float,
        on_failure: Callable[[str, BaseException], None],
    ) -> None:
        self.waiter: asyncio.Future[None] = loop.create_future()
        super().__init__(
            loop, app_protocol, context, server_side=True, waiter=self.waiter,
            ssl_handshake_timeout=handshake_timeout, ssl_shutdown_timeout=SHUTDOWN_TIMEOUT,
        )
        self.peer = "?"
        self.accepted_at = time.monotonic()
        self._on_failure = on_failure
        self.waiter.add_done_callback(self._waiter_done)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.peer = describe_peer(transport.get_extra_info("peername"))
        self.accepted_at = time.monotonic()
        super().connection_made(transport)

    def _waiter_done(self, fut: asyncio.Future[None]) -> None:
        exc = None if fut.cancelled() else fut.exception()
        if exc is not None:
            self._on_failure(self.peer, exc)


def failure_reason(exc: BaseException) -> str:
    """``Name: message`` for a handshake/connection error, with the alert if any."""
    from ..errors import AlertDescription, AlertReceived, ProtocolError

    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, (ProtocolError, AlertReceived)):
        try:
            name = AlertDescription(int(exc.description)).name.lower()
        except ValueError:
            name = str(int(exc.description))
        text += f" (alert {name} {'received' if isinstance(exc, AlertReceived) else 'sent'})"
    return text


class StreamConnection:
    """A stream connection as the drain sees it (:class:`~ferrotls.apps.fleet.Drainable`)."""

    __slots__ = ("writer",)

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer

    def close(self) -> None:
        self.writer.close()

    def abort(self) -> None:
        self.writer.transport.abort()


async def serve_tls(
    ctx: Context | Callable[[], Context],
    host: str | None,
    port: int | None,
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter, AcceptedTLS], Awaitable[None]],
    *,
    handshake_timeout: float,
    on_failure: Callable[[str, BaseException], None],
    connections: set[Any],
    sock: socket.socket | None = None,
) -> asyncio.Server:
    """Listen with ferrotls (on ``sock``, or host:port); run ``handler`` for each
    completed handshake.  ``ctx`` may be a callable giving the current context
    (read at each accept: a reload changes new connections only).  Open
    connections are in ``connections`` (as :class:`StreamConnection`)."""
    loop = asyncio.get_running_loop()
    current = ctx if callable(ctx) and not isinstance(ctx, Context) else (lambda: ctx)

    def factory() -> AcceptedTLS:
        reader = asyncio.StreamReader(limit=2**16, loop=loop)
        holder: list[AcceptedTLS] = []

        async def connected(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            tracked = StreamConnection(w)
            connections.add(tracked)
            try:
                await handler(r, w, holder[0])
            except Exception as exc:  # noqa: BLE001 - one connection never stops the server
                logger.warning("%s: %s", holder[0].peer, failure_reason(exc))
                w.transport.abort()
            finally:
                connections.discard(tracked)

        app = asyncio.StreamReaderProtocol(reader, connected, loop=loop)
        tls = AcceptedTLS(loop, app, current(), handshake_timeout=handshake_timeout,
                          on_failure=on_failure)
        holder.append(tls)
        return tls

    if sock is not None:
        return await loop.create_server(factory, sock=sock, backlog=1024)
    return await loop.create_server(factory, host, port)  # type: ignore[arg-type]


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT/SIGTERM (install before announcing "listening on")."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def _quiet_wait_closed(w: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        await w.wait_closed()


# --------------------------------------------------------------------------- handlers


def _info_of(writer: asyncio.StreamWriter) -> HandshakeComplete:
    info: HandshakeComplete = writer.get_extra_info("ferrotls_connection").info
    return info


def connection_page(info: HandshakeComplete, peer: str, request_line: str) -> bytes:
    """The HTML page of the HTTP responder (``s_server -www`` style)."""
    rows = [*handshake_fields(info)]
    rows.append(("Client certificate", peer_identity(info) or "(none)"))
    rows.append(("Peer", peer))
    rows.append(("Request", request_line))
    width = max(len(k) for k, _ in rows)
    body = "\n".join(f"{k:<{width}} : {html.escape(v)}" for k, v in rows)
    page = (
        "<!DOCTYPE html>\n<html><head><title>ferrotls server</title></head><body>\n"
        f"<h1>ferrotls server</h1>\n<pre>\n{body}\n</pre>\n</body></html>\n"
    )
    return page.encode("utf-8")


MAX_REQUEST_HEAD = 64 * 1024
"""Bytes of request line and headers the HTTP responder reads at most."""


async def read_request_head(reader: asyncio.StreamReader) -> list[bytes]:
    """The request line and header lines, up to the empty line that ends them.

    A bare LF ends a line too (RFC 9112 section 2.2 allows it; ``s_server -www``
    and tlsfuzzer's ``GET / HTTP/1.0\\n\\n`` rely on it), and empty lines before
    the request line are skipped (section 2.2 again).  IncompleteReadError at
    EOF, LimitOverrunError past MAX_REQUEST_HEAD bytes.
    """
    lines: list[bytes] = []
    size = 0
    while True:
        line = await reader.readuntil(b"\n")
        size += len(line)
        if size > MAX_REQUEST_HEAD:
            raise asyncio.LimitOverrunError("HTTP request head too long", size)
        line = line.rstrip(b"\r\n")
        if line:
            lines.append(line)
        elif lines:
            return lines


async def http_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       tls: AcceptedTLS) -> None:
    info = _info_of(writer)
    try:
        head = await asyncio.wait_for(read_request_head(reader), REQUEST_TIMEOUT)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError) as exc:
        logger.info("%s: no complete HTTP request (%s)", tls.peer, type(exc).__name__)
        writer.close()
        return
    request_line = head[0].decode("latin-1")
    method, _, rest = request_line.partition(" ")
    if rest.split(" ", 1)[0] == KEYUPDATE_PATH:
        # tlslite-ng's test server does the same (tlsfuzzer's keyupdate-from-server):
        # our KeyUpdate, asking for the client's, goes out before the response.
        writer.get_extra_info("ferrotls_connection").update_keys(request_peer_update=True)
    body = connection_page(info, tls.peer, request_line)
    header = (
        "HTTP/1.0 200 OK\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n"
        "Server: ferrotls\r\n\r\n"
    ).encode("ascii")
    writer.write(header if method == "HEAD" else header + body)
    await writer.drain()
    logger.info("%s: %s -> 200 (%s, %s)", tls.peer, request_line,
                suite_name(info.cipher_suite), peer_identity(info) or "no client cert")
    writer.close()
    await _quiet_wait_closed(writer)


async def echo_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       tls: AcceptedTLS) -> None:
    info = _info_of(writer)
    logger.info("%s: connected (%s, %s, client %s)", tls.peer,
                suite_name(info.cipher_suite), enum_name(NamedGroup, info.group),
                peer_identity(info) or "anonymous")
    total = 0
    try:
        while data := await reader.read(65536):
            total += len(data)
            writer.write(data)
            await writer.drain()
    finally:
        logger.info("%s: closed after echoing %d bytes", tls.peer, total)
        writer.close()
        await _quiet_wait_closed(writer)


# --------------------------------------------------------------------------- command


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``ferrotls server``."""
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=4433, help="port (default 4433; 0 picks a free one)")
    p.add_argument("--echo", action="store_true", help="echo mode instead of the HTTP responder")
    p.add_argument("--handshake-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="drop clients that do not finish the handshake in time (default 10)")
    add_server_tls_arguments(p)
    from .dtls_cli import add_server_arguments

    add_server_arguments(p)


def server_endpoint(args: argparse.Namespace, names: tuple[str, ...]) -> Endpoint:
    """``ferrotls server`` as a fleet endpoint (context, shared state, accept loop)."""
    shared = shared_state(args)
    pki = throwaway_pki(args, names)

    def rebuild() -> Context:
        return build_server_context(args, names, shared, pki)

    connections: set[StreamConnection] = set()

    def on_failure(peer: str, exc: BaseException) -> None:
        logger.warning("%s: handshake failed: %s", peer, failure_reason(exc))

    handler = echo_handler if args.echo else http_handler

    async def start(current: Callable[[], Context], sock: socket.socket) -> asyncio.Server:
        return await serve_tls(current, None, None, handler,
                               handshake_timeout=args.handshake_timeout, on_failure=on_failure,
                               connections=connections, sock=sock)

    return Endpoint("server", args.host, args.port, rebuild(), rebuild, start,
                    lambda: connections, shared)


def main(args: argparse.Namespace) -> int:
    """``ferrotls server``."""
    setup_logging("server", args)
    names = (args.host,) if args.host not in ("", "0.0.0.0", "::") else ()
    if getattr(args, "dtls", False):
        from ..config import ServerConfig
        from .dtls_cli import run_server

        try:
            config = build_server_context(args, names).config
        except (ValueError, OSError, TLSError) as exc:
            print(f"ferrotls server: {exc}", file=sys.stderr)
            return 2
        assert isinstance(config, ServerConfig)
        return run_server(args, config)
    try:
        endpoint = server_endpoint(args, names)
    except (ValueError, OSError, TLSError) as exc:
        print(f"ferrotls server: {exc}", file=sys.stderr)
        return 2
    try:
        return run_fleet(endpoint, args)
    except OSError as exc:
        print(f"ferrotls server: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
