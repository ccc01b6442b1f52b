"""The demonstration behind ``make demo`` / ``python -m ferrotls demo``.

1. A ferrotls server on 127.0.0.1 with a throw-away certificate; a ferrotls
   client and a Python ``ssl`` client connect, and what was negotiated is shown.
2. Bulk throughput through an in-memory connection pair per backend.
3. Primitive throughput beside pyca/cryptography, with ratios.
4. Two server instances resuming each other's sessions through a throw-away
   redis-server (skipped, with the reason, without redis-server or redis-py).
"""

from __future__ import annotations

import argparse
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from functools import partial

from ..backend import available_backends, get_backend, load_backend
from ..config import ClientConfig, ServerConfig
from ..connection import ClientConnection, ServerConnection, pump
from ..errors import TLSError
from ..events import ApplicationData, ConnectionClosed, HandshakeComplete
from ..suites import CipherSuite, NamedGroup, SignatureScheme
from .bench.memory import ferro_sender
from .sslpeer import measure, repeat
from .testpki import make_test_pki

__all__ = ["add_arguments", "main", "print_primitive_table", "run_demo"]


def _ops(fn: Callable[[], object], target: float) -> float:
    """Calls per second of ``fn``, calibrated to run about ``target`` seconds."""
    return measure(repeat(fn), target=target).per_second


def _primitive_rows(quick: bool) -> list[tuple[str, str, float, str]]:
    target = 0.05 if quick else 0.25
    rows: list[tuple[str, str, float, str]] = []
    suites = (
        ("AES-128-GCM", CipherSuite.TLS_AES_128_GCM_SHA256, 16),
        ("AES-256-GCM", CipherSuite.TLS_AES_256_GCM_SHA384, 32),
        ("ChaCha20-Poly1305", CipherSuite.TLS_CHACHA20_POLY1305_SHA256, 32),
    )
    sizes = (64, 16384)
    try:
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

        have_cryptography = True
    except ImportError:  # pragma: no cover - cryptography is a dependency
        have_cryptography = False
    for label, suite, key_len in suites:
        key = os.urandom(key_len)
        for size in sizes:
            data = os.urandom(size)
            what = f"seal record {label} {size} B"
            for name in available_backends():
                backend = load_backend(name)
                if name == "python" and size > 64 and quick:
                    continue
                rp = backend.record_protector(suite, key, bytes(12))
                rate = _ops(partial(rp.seal_record, 23, data), target)
                rows.append((what, f"ferrotls-{name}", rate, "ops/s"))
            if have_cryptography:
                cipher = (ChaCha20Poly1305 if "ChaCha" in label else AESGCM)(key)
                nonce = bytes(12)
                rate = _ops(partial(cipher.encrypt, nonce, data, b"12345"), target)
                rows.append((what, "cryptography", rate, "ops/s"))
    peer = os.urandom(32)
    for name in available_backends():
        backend = load_backend(name)
        priv = backend.x25519_from_bytes(os.urandom(32))
        pub = backend.x25519_from_bytes(peer).public_bytes()
        rate = _ops(partial(priv.exchange, pub), target)
        rows.append(("X25519 exchange", f"ferrotls-{name}", rate, "ops/s"))
        secret = os.urandom(32)
        rate = _ops(partial(backend.hkdf_expand_label, "sha256", secret, b"key", b"", 16), target)
        rows.append(("HKDF-Expand-Label SHA-256", f"ferrotls-{name}", rate, "ops/s"))
    if have_cryptography:
        c_priv = X25519PrivateKey.from_private_bytes(os.urandom(32))
        c_pub = X25519PrivateKey.from_private_bytes(peer).public_key()
        rate = _ops(lambda: c_priv.exchange(c_pub), target)
        rows.append(("X25519 exchange", "cryptography", rate, "ops/s"))
    return rows


def print_primitive_table(quick: bool = False) -> None:
    """Seal, X25519 and HKDF rates per backend beside pyca/cryptography, with the ratio."""
    rows = _primitive_rows(quick)
    reference: dict[str, float] = {}
    for what, impl, rate, _ in rows:
        if impl == "cryptography":
            reference[what] = rate
    print(f"{'measurement':34} {'implementation':18} {'ops/s':>14} {'MB/s':>10} {'vs cryptography':>16}")
    for what, impl, rate, _unit in rows:
        size = int(what.split()[-2]) if what.endswith(" B") else 0
        mbps = f"{rate * size / 1e6:10.1f}" if size else f"{'':10}"
        ref = reference.get(what)
        ratio = f"{rate / ref:15.2f}x" if ref else f"{'':16}"
        print(f"{what:34} {impl:18} {rate:14,.0f} {mbps} {ratio}")


def _serve_once(listener: socket.socket, config: ServerConfig) -> None:
    """Accept one connection and echo application data until close_notify."""
    sock, _ = listener.accept()
    with sock:
        sock.settimeout(10)
        conn = ServerConnection(config)
        try:
            while True:
                data = sock.recv(65536)
                try:
                    conn.receive_data(data)
                finally:
                    sock.sendall(conn.data_to_send())
                for event in conn.events():
                    if isinstance(event, ApplicationData):
                        conn.send(b"echo: " + event.data)
                    elif isinstance(event, ConnectionClosed):
                        conn.close()
                sock.sendall(conn.data_to_send())
                if conn.peer_closed or not data:
                    return
        except (TLSError, OSError):
            return


def _ferrotls_client(port: int, config: ClientConfig) -> tuple[HandshakeComplete, bytes, float]:
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        conn = ClientConnection(config, "localhost")
        sock.sendall(conn.data_to_send())
        info: HandshakeComplete | None = None
        reply = b""
        while True:
            data = sock.recv(65536)
            conn.receive_data(data)
            for event in conn.events():
                if isinstance(event, HandshakeComplete):
                    info = event
                    elapsed = time.perf_counter() - start
                    conn.send(b"hello from ferrotls")
                elif isinstance(event, ApplicationData):
                    reply += event.data
                    conn.close()
            sock.sendall(conn.data_to_send())
            if conn.peer_closed or not data:
                break
    assert info is not None
    return info, reply, elapsed


def _stdlib_client(port: int, ca_pem: bytes) -> tuple[str, str, bytes]:
    ctx = ssl.create_default_context(cadata=ca_pem.decode("ascii"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"hello from the ssl module")
            reply = tls.recv(65536)
            cipher = tls.cipher()
            version = tls.version() or "?"
            return version, cipher[0] if cipher else "?", reply


def _live_tls_demo() -> None:
    pki = make_test_pki(("localhost", "127.0.0.1"))
    server_config = ServerConfig(certificates=(pki.server,))
    verifier = pki.verifier()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        print(f"ferrotls server on 127.0.0.1:{port} (backend {get_backend().name}), "
              f"certificate SHA-256 {pki.fingerprint[:23]}...")
        for name in ("ferrotls client", "Python ssl client"):
            thread = threading.Thread(target=_serve_once, args=(listener, server_config))
            thread.start()
            if name == "ferrotls client":
                info, reply, elapsed = _ferrotls_client(port, ClientConfig(verifier=verifier))
                print(f"  {name}: {info.version} {CipherSuite(info.cipher_suite).name} "
                      f"group={NamedGroup(info.group or 0).name} "
                      f"signature={SignatureScheme(info.signature_scheme or 0).name} "
                      f"connect+handshake {elapsed * 1e3:.1f} ms; reply {reply!r}")
            else:
                version, cipher, reply = _stdlib_client(port, pki.ca_pem)
                print(f"  {name}: {version} {cipher}; reply {reply!r}")
            thread.join(15)


def _bulk_rate(backend: str, suite: int, total: int) -> float:
    """MB/s of application data through an in-memory client -> server pair (16 KiB writes)."""
    pki = make_test_pki(("localhost",))
    client = ClientConnection(
        ClientConfig(backend=backend, verifier=pki.verifier(), cipher_suites=(suite,)), "localhost"
    )
    server = ServerConnection(ServerConfig(backend=backend, certificates=(pki.server,)))
    pump(client, server)
    assert client.handshake_complete and server.handshake_complete
    server.events()
    chunk = os.urandom(16384)
    run = ferro_sender(client, server, chunk)
    return measure(run, n=max(1, total // len(chunk)), warmup=0).units_per_second / 1e6


def run_demo(quick: bool = False) -> int:
    """Run the demonstration; returns a process exit code."""
    print("ferrotls demo: backends available:", ", ".join(available_backends()))
    print()
    print("1. A live TLS 1.3 server on 127.0.0.1 and two clients:")
    _live_tls_demo()
    print()
    print("2. Bulk application data through an in-memory client/server pair (16 KiB writes):")
    for suite in (CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_CHACHA20_POLY1305_SHA256):
        for name in available_backends():
            total = (64 << 20) if name == "native" else (1 << 20)
            if quick:
                total //= 8
            rate = _bulk_rate(name, suite, total)
            print(f"  {suite.name:32} ferrotls-{name:7} {rate:9.1f} MB/s")
    print()
    print("3. Primitive throughput (one thread, in process):")
    print_primitive_table(quick)
    print()
    print("4. Two server instances sharing session tickets through Redis (ferrotls.shared):")
    from .fleetdemo import shared_resumption_demo

    for line in shared_resumption_demo():
        print(f"  {line}")
    return 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``ferrotls demo``."""
    p.add_argument("--quick", action="store_true", help="shorter measurements")


def main(args: argparse.Namespace) -> int:
    """``ferrotls demo``."""
    return run_demo(quick=args.quick)
