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
import html
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ..context import CERT_OPTIONAL, CERT_REQUIRED, Context, Purpose
from ..errors import TLSError
from ..events import HandshakeComplete
from ..suites import CipherSuite, NamedGroup, SignatureScheme
from ..transports.aio import TLSProtocol

__all__ = [
    "AcceptedTLS",
    "add_arguments",
    "add_common_tls_arguments",
    "add_server_tls_arguments",
    "apply_server_options",
    "build_server_context",
    "describe_peer",
    "enum_name",
    "handshake_fields",
    "main",
    "run_until_signalled",
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
    p.add_argument("--keylog", metavar="FILE",
                   help="append SSLKEYLOGFILE lines (traffic secrets!) to FILE")
    p.add_argument("--backend", choices=("native", "python"),
                   help="crypto backend (default: FERROTLS_BACKEND, else native if built)")


def add_server_tls_arguments(p: argparse.ArgumentParser) -> None:
    """Certificate and client-authentication options of ``server`` and ``gateway``."""
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
    p.add_argument("--psk-identity", metavar="ID",
                   help="accept the external PSK with this identity (like s_server -psk_identity)")
    p.add_argument("--psk", metavar="HEX", help="the external PSK's key, in hex (with --psk-identity)")
    p.add_argument("--psk-hash", choices=("sha256", "sha384"), default="sha256",
                   help="the hash the external PSK is used with (default sha256)")
    p.add_argument("--cert-compression", metavar="LIST",
                   help="certificate compression algorithms to offer and accept (RFC 8879), "
                        "most preferred first, e.g. zlib,brotli,zstd (default: none)")
    add_common_tls_arguments(p)


def apply_common(ctx: Context, args: argparse.Namespace) -> None:
    """--alpn, --groups, --suites, --keylog, --backend onto a context."""
    alpn = split_list(args.alpn)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if args.groups:
        ctx.set_groups(args.groups)
    if args.suites:
        ctx.set_ciphersuites(args.suites)
    if args.keylog:
        ctx.keylog_filename = args.keylog
    if args.backend:
        ctx.backend = args.backend


def build_server_context(args: argparse.Namespace, names: tuple[str, ...] = ()) -> Context:
    """A server Context from the parsed options (see :func:`add_server_tls_arguments`).

    Without ``--cert``, a throw-away CA and leaf for ``localhost``, ``127.0.0.1``
    and ``names`` are made; the fingerprint goes to stderr and the CA to ``--write-ca``.
    """
    ctx = Context(Purpose.CLIENT_AUTH)
    certs: list[str] = args.cert or []
    keys: list[str] = args.key or []
    if keys and len(keys) != len(certs):
        raise ValueError("give one --key per --cert (or put each key in its --cert file)")
    if certs:
        for i, cert in enumerate(certs):
            ctx.load_cert_chain(cert, keys[i] if keys else None)
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
    apply_server_options(ctx, args)
    apply_common(ctx, args)
    ctx.config  # configuration errors surface now  # noqa: B018
    return ctx


#: --cert-compression names -> RFC 8879 CertificateCompressionAlgorithm values.
COMPRESSION_NAMES = {"zlib": 1, "brotli": 2, "zstd": 3}


def apply_server_options(ctx: Context, args: argparse.Namespace) -> None:
    """--psk-identity/--psk/--psk-hash and --cert-compression onto a server context."""
    identity = getattr(args, "psk_identity", None)
    key_hex = getattr(args, "psk", None)
    if (identity is None) != (key_hex is None):
        raise ValueError("give --psk-identity and --psk together")
    if identity is not None and key_hex is not None:
        from ..psk import ExternalPsk

        try:
            key = bytes.fromhex(key_hex)
        except ValueError:
            raise ValueError(f"--psk must be hexadecimal, got {key_hex!r}") from None
        psk = ExternalPsk(identity.encode("utf-8"), key, hash_name=args.psk_hash)

        def lookup(offered: bytes) -> ExternalPsk | None:
            return psk if offered == psk.identity else None

        ctx.set_options(psk_callback=lookup)
    names = split_list([args.cert_compression] if getattr(args, "cert_compression", None) else None)
    if names:
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


# --------------------------------------------------------------------------- describing


def enum_name(kind: Any, value: int | None) -> str:
    if value is None:
        return "(none)"
    try:
        return str(kind(value).name)
    except ValueError:
        return f"0x{value:04x}"


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
        ("Cipher suite", enum_name(CipherSuite, info.cipher_suite)),
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


async def serve_tls(
    ctx: Context,
    host: str,
    port: int,
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter, AcceptedTLS], Awaitable[None]],
    *,
    handshake_timeout: float,
    on_failure: Callable[[str, BaseException], None],
    connections: set[asyncio.StreamWriter],
) -> asyncio.Server:
    """Listen with ferrotls; run ``handler`` for each completed handshake."""
    loop = asyncio.get_running_loop()

    def factory() -> AcceptedTLS:
        reader = asyncio.StreamReader(limit=2**16, loop=loop)
        holder: list[AcceptedTLS] = []

        async def connected(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            connections.add(w)
            try:
                await handler(r, w, holder[0])
            except Exception as exc:  # noqa: BLE001 - one connection never stops the server
                logger.warning("%s: %s", holder[0].peer, failure_reason(exc))
                w.transport.abort()
            finally:
                connections.discard(w)

        app = asyncio.StreamReaderProtocol(reader, connected, loop=loop)
        tls = AcceptedTLS(loop, app, ctx, handshake_timeout=handshake_timeout, on_failure=on_failure)
        holder.append(tls)
        return tls

    return await loop.create_server(factory, host, port)


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT/SIGTERM (install before announcing "listening on")."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def run_until_signalled(stop: asyncio.Event, servers: list[asyncio.Server],
                              connections: set[asyncio.StreamWriter], name: str) -> None:
    """Wait for ``stop``, then stop listening and close connections (bounded)."""
    await stop.wait()
    print(f"ferrotls {name}: shutting down", file=sys.stderr, flush=True)
    for server in servers:
        server.close()
    for w in list(connections):
        w.close()
    closing = [asyncio.ensure_future(_quiet_wait_closed(w)) for w in list(connections)]
    if closing:
        await asyncio.wait(closing, timeout=2.0)
    for w in list(connections):
        w.transport.abort()


async def _quiet_wait_closed(w: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        await w.wait_closed()


def print_listening(server: asyncio.Server, what: str = "listening on") -> str:
    sock = server.sockets[0]
    addr = describe_peer(sock.getsockname())
    print(f"{what} {addr}", flush=True)
    return addr


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


async def http_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       tls: AcceptedTLS) -> None:
    info = _info_of(writer)
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REQUEST_TIMEOUT)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError) as exc:
        logger.info("%s: no complete HTTP request (%s)", tls.peer, type(exc).__name__)
        writer.close()
        return
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
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
                enum_name(CipherSuite, info.cipher_suite), peer_identity(info) or "no client cert")
    writer.close()
    await _quiet_wait_closed(writer)


async def echo_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       tls: AcceptedTLS) -> None:
    info = _info_of(writer)
    logger.info("%s: connected (%s, %s, client %s)", tls.peer,
                enum_name(CipherSuite, info.cipher_suite), enum_name(NamedGroup, info.group),
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


async def _serve(args: argparse.Namespace, ctx: Context) -> int:
    connections: set[asyncio.StreamWriter] = set()
    stop = stop_on_signals()

    def on_failure(peer: str, exc: BaseException) -> None:
        logger.warning("%s: handshake failed: %s", peer, failure_reason(exc))

    handler = echo_handler if args.echo else http_handler
    server = await serve_tls(ctx, args.host, args.port, handler,
                             handshake_timeout=args.handshake_timeout, on_failure=on_failure,
                             connections=connections)
    print_listening(server)
    await run_until_signalled(stop, [server], connections, "server")
    return 0


def main(args: argparse.Namespace) -> int:
    """``ferrotls server``."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="ferrotls server: %(message)s")
    try:
        ctx = build_server_context(args, (args.host,) if args.host not in ("", "0.0.0.0", "::") else ())
    except (ValueError, OSError, TLSError) as exc:
        print(f"ferrotls server: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "dtls", False):
        from ..config import ServerConfig
        from .dtls_cli import run_server

        config = ctx.config
        assert isinstance(config, ServerConfig)
        return run_server(args, config)
    try:
        return asyncio.run(_serve(args, ctx))
    except OSError as exc:
        print(f"ferrotls server: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
