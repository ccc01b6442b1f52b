"""``ferrotls bench`` in memory: both ends in one thread, no sockets.

The method of ``benches/throughput.py`` and ``benches/peers.py``:

* bulk: the client sends N bytes per write, the server reads all of it;
  MB/s (10**6 bytes of application data) per cipher suite and write size;
* small: 64-byte messages per second (AES-128-GCM);
* handshakes per second: new client and server objects, a full handshake
  with X25519, an ECDSA P-256 certificate and chain verification.

``ssl`` (OpenSSL through ``ssl.MemoryBIO``, :mod:`ferrotls.apps.sslpeer`) is
the reference; where its suite cannot be pinned its rows use OpenSSL's default
suite and say so.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import Any

from ...config import ClientConfig, ServerConfig
from ...connection import ClientConnection, ServerConnection, pump
from ...events import ApplicationData
from ...suites import CipherSuite, NamedGroup
from ..sslpeer import SslPeer, measure, repeat
from ..testpki import TestPKI, make_test_pki
from . import HOST
from .report import Progress, Result

__all__ = ["SIZES", "SUITES", "ferro_configs", "ferro_handshake", "ferro_sender", "run_bench"]

SUITES: dict[str, tuple[int, str]] = {
    # name in the table: (code point, OpenSSL name)
    "AES-128-GCM": (CipherSuite.TLS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256"),
    "AES-256-GCM": (CipherSuite.TLS_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384"),
    "ChaCha20-Poly1305": (CipherSuite.TLS_CHACHA20_POLY1305_SHA256, "TLS_CHACHA20_POLY1305_SHA256"),
}
SIZES = (64, 1024, 4096, 16384)
"""Bulk write sizes (bytes) of a full run."""


def ferro_configs(pki: TestPKI, backend: str, suite: int) -> tuple[ClientConfig, ServerConfig]:
    """Client and server configs for one backend and suite: one X25519 share, no tickets."""
    cc = ClientConfig(backend=backend, verifier=pki.verifier(), cipher_suites=(suite,),
                      key_share_groups=(NamedGroup.X25519,),
                      groups=(NamedGroup.X25519, NamedGroup.SECP256R1))
    sc = ServerConfig(backend=backend, certificates=(pki.server,), cipher_suites=(suite,),
                      ticket_count=0)
    return cc, sc


def ferro_handshake(cc: ClientConfig, sc: ServerConfig) -> tuple[ClientConnection, ServerConnection]:
    """New connections and a full handshake in memory; their events are drained."""
    c, s = ClientConnection(cc, HOST), ServerConnection(sc)
    pump(c, s)
    if not (c.handshake_complete and s.handshake_complete):
        raise RuntimeError("ferrotls handshake did not complete")
    c.events()
    s.events()
    return c, s


def ferro_sender(c: ClientConnection, s: ServerConnection, chunk: bytes) -> Callable[[int], int]:
    """``run(n)``: n times the client sends ``chunk`` and the server reads all of it
    (ferrotls's :meth:`ferrotls.apps.sslpeer.SslPair.sender`); returns the bytes read."""
    size = len(chunk)

    def run(n: int) -> int:
        send, out, recv, events = c.send, c.data_to_send, s.receive_data, s.events
        total = 0
        for _ in range(n):
            send(chunk)
            recv(out())
            for ev in events():
                if isinstance(ev, ApplicationData):
                    total += len(ev.data)
        if total != n * size:
            raise RuntimeError(f"short read: {total} of {n * size}")
        return total

    return run


def run_bench(quick: bool, backends: list[str]) -> list[Result]:
    """Bulk, small messages and handshakes for each backend and ``ssl``, in one run."""
    target = 0.08 if quick else 0.4
    pki = make_test_pki((HOST,))
    impls: list[str] = [f"ferrotls-{b}" for b in backends] + ["ssl"]
    suites = ["AES-128-GCM"] if quick else list(SUITES)
    bulk_sizes = (1024, 16384) if quick else SIZES
    plan: list[tuple[str, str, Any]] = []
    for suite in suites:
        for size in bulk_sizes:
            for impl in impls:
                plan.append(("bulk", impl, (suite, size)))
    for impl in impls:
        plan.append(("small", impl, None))
    for impl in impls:
        plan.append(("handshake", impl, None))
    progress = Progress(len(plan))
    results: list[Result] = []
    ssl_peers: dict[str, SslPeer] = {}
    for kind, impl, param in plan:
        progress.step(f"{kind} {impl} {param or ''}")
        backend = impl.removeprefix("ferrotls-")
        slow = backend == "python"
        t = target / 2 if slow else target
        if kind in ("bulk", "small"):
            suite, size = param if kind == "bulk" else ("AES-128-GCM", 64)
            code, ossl_name = SUITES[suite]
            note = ""
            chunk = os.urandom(size)
            if impl == "ssl":
                peer = ssl_peers.get(suite) or ssl_peers.setdefault(
                    suite, SslPeer.from_pem(pki.ca_pem, pki.chain_pem, pki.key_pem, HOST,
                                            suite=ossl_name))
                if not peer.suite_pinned:
                    note = "OpenSSL default suite"
                fn = peer.handshake().sender(chunk)
            else:
                fn = ferro_sender(*ferro_handshake(*ferro_configs(pki, backend, code)), chunk)
            rate = measure(fn, target=t)
            if kind == "bulk":
                results.append(Result(f"bulk {suite} {size} B writes", impl,
                                      rate.units_per_second / 1e6, "MB/s", size, note))
            else:
                results.append(Result("64-byte messages AES-128-GCM", impl, rate.per_second,
                                      "msg/s", 64, note))
        else:
            hs: Callable[[int], int]
            if impl == "ssl":
                hs = SslPeer.from_pem(pki.ca_pem, pki.chain_pem, pki.key_pem, HOST).handshakes()
            else:
                configs = ferro_configs(pki, backend, CipherSuite.TLS_AES_128_GCM_SHA256)
                hs = repeat(partial(ferro_handshake, *configs))
            results.append(Result("full handshakes (X25519, ECDSA P-256)", impl,
                                  measure(hs, target=t).per_second, "hs/s"))
    progress.finish()
    return results
