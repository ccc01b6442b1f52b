"""In-memory data-path drivers: ferrotls (native, python), ``ssl`` (MemoryBIO) and tlslite-ng.

Used by ``bench_throughput.py`` (pytest-benchmark) and ``make_results.py``.  The
method is the one of ``shared/anchors/measure.py``:

* **bulk**: the client writes 16 KiB, the bytes move to the server, the server
  reads all 16 KiB of plaintext; one thread; MB = 10**6 bytes of application data.
* **small**: the same with a 64-byte message (one record per round).

Every peer gets an established connection pair first (full handshake, one
X25519 share, the suite under test).  ``ssl`` (Python 3.11) cannot choose TLS 1.3
suites; :func:`ssl_pair` pins it with ``ferrotls.apps.sslpeer`` (OpenSSL's
``SSL_CTX_set_ciphersuites`` through ctypes, on the libssl the ``_ssl`` module
uses) and asserts the negotiated suite, so every suite runs in one process
(measure.py used OPENSSL_CONF in a child process instead).  The ``ssl`` pump and
the timing loop are ``ferrotls.apps.sslpeer``'s, shared with ``ferrotls bench``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ferrotls.apps.sslpeer import SslPair, SslPeer, client_context, measure, server_context  # noqa: E402
from peers import HOST, MemSock, make_pki  # noqa: E402

CHUNK = 16384
SMALL = 64
SUITES: dict[str, tuple[int, str, str]] = {
    # name: (code point, OpenSSL name, tlslite-ng cipher name)
    "aes128gcm": (0x1301, "TLS_AES_128_GCM_SHA256", "aes128gcm"),
    "aes256gcm": (0x1302, "TLS_AES_256_GCM_SHA384", "aes256gcm"),
    "chacha20": (0x1303, "TLS_CHACHA20_POLY1305_SHA256", "chacha20-poly1305"),
}

_PKI: tuple[Any, Any] | None = None


def pki() -> tuple[Any, Any]:
    global _PKI
    if _PKI is None:
        _PKI = make_pki()
    return _PKI


# ----------------------------------------------------------------------------- ferrotls


def ferro_pair(backend: str, suite: str) -> tuple[Any, Any]:
    """An established ferrotls (client, server) pair, events drained."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from ferrotls.config import CertifiedKey, ClientConfig, ServerConfig
    from ferrotls.connection import ClientConnection, ServerConnection, pump
    from ferrotls.suites import NamedGroup
    from ferrotls.x509 import DefaultVerifier, TrustStore

    ca, leaf = pki()
    chain = [x509.load_pem_x509_certificate(p.bytes()) for p in leaf.cert_chain_pems]
    key = load_pem_private_key(leaf.private_key_pem.bytes(), None)
    cc = ClientConfig(
        backend=backend,
        verifier=DefaultVerifier(TrustStore.from_pem(cadata=ca.cert_pem.bytes())),
        cipher_suites=(SUITES[suite][0],),
        key_share_groups=(NamedGroup.X25519,),
        groups=(NamedGroup.X25519, NamedGroup.SECP256R1),
    )
    sc = ServerConfig(backend=backend, certificates=(CertifiedKey(chain, key),))
    c, s = ClientConnection(cc, HOST), ServerConnection(sc)
    pump(c, s)
    assert c.handshake_complete and s.handshake_complete
    assert c.info.cipher_suite == SUITES[suite][0], c.info
    c.events()
    s.events()
    return c, s


def ferro_bulk(c: Any, s: Any, chunk: bytes = b"\0" * CHUNK) -> Callable[[int], int]:
    """``run(n)``: n rounds of client send(chunk) -> server receive; returns plaintext bytes read."""
    size = len(chunk)

    def run(n: int) -> int:
        send, out, recv, events = c.send, c.data_to_send, s.receive_data, s.events
        total = 0
        for _ in range(n):
            send(chunk)
            recv(out())
            got = 0
            for ev in events():
                got += len(ev.data)
            if got != size:
                raise RuntimeError(f"short read {got}")
            total += got
        return total

    return run


def ferro_small(c: Any, s: Any, msg: bytes = b"m" * SMALL) -> Callable[[int], int]:
    size = len(msg)

    def run(n: int) -> int:
        send, out, recv, nxt = c.send, c.data_to_send, s.receive_data, s.next_event
        for _ in range(n):
            send(msg)
            recv(out())
            if len(nxt().data) != size:  # type: ignore[union-attr]
                raise RuntimeError("short read")
        return n * size

    return run


# ----------------------------------------------------------------------------- ssl

def ssl_pair(suite: str) -> SslPair:
    """An established ``ssl`` pair (``ferrotls.apps.sslpeer``) pinned to ``suite``."""
    ca, leaf = pki()
    name = SUITES[suite][1]
    chain = b"".join(p.bytes() for p in leaf.cert_chain_pems)
    peer = SslPeer(client_context(ca.cert_pem.bytes()),
                   server_context(chain, leaf.private_key_pem.bytes(), num_tickets=0),
                   HOST, suite=name)
    if not peer.suite_pinned:
        raise RuntimeError(f"SSL_CTX_set_ciphersuites({name}) failed")
    pair = peer.handshake()
    assert pair.client.cipher()[0] == name, (pair.client.cipher(), name)
    return pair


def ssl_bulk(pair: SslPair, chunk: bytes = b"\0" * CHUNK) -> Callable[[int], int]:
    """``run(n)``: n rounds of client write(chunk) -> server read; returns plaintext bytes read."""
    return pair.sender(chunk)


def ssl_small(pair: SslPair, msg: bytes = b"m" * SMALL) -> Callable[[int], int]:
    return pair.sender(msg)


# ----------------------------------------------------------------------------- tlslite-ng


def tlslite_pair(suite: str) -> tuple[Any, Any]:
    from tlslite import HandshakeSettings, TLSConnection, X509CertChain, parsePEMKey

    ca, leaf = pki()
    chain = X509CertChain()
    chain.parsePemList(b"".join(p.bytes() for p in leaf.cert_chain_pems).decode())
    key = parsePEMKey(leaf.private_key_pem.bytes().decode(), private=True)

    def settings() -> Any:
        st = HandshakeSettings()
        st.minVersion = st.maxVersion = (3, 4)
        st.keyShares = ["x25519"]
        st.eccCurves = ["x25519", "secp256r1"]
        st.cipherNames = [SUITES[suite][2]]
        return st

    a, b = MemSock(), MemSock()
    a.peer, b.peer = b, a
    c, s = TLSConnection(a), TLSConnection(b)
    gc = c.handshakeClientCert(settings=settings(), serverName=HOST, async_=True)
    gs = s.handshakeServerAsync(certChain=chain, privateKey=key, settings=settings())
    cdone = sdone = False
    for _ in range(10000):
        if not cdone:
            try:
                next(gc)
            except StopIteration:
                cdone = True
        if not sdone:
            try:
                next(gs)
            except StopIteration:
                sdone = True
        if cdone and sdone:
            break
    assert c.getCipherName() == SUITES[suite][2], c.getCipherName()
    _tlslite_drain(c.readAsync(1, 1), stop_on_zero=True)  # NewSessionTickets
    return c, s


def _tlslite_drain(gen: Any, stop_on_zero: bool = False) -> Any:
    result = None
    for r in gen:
        if r in (0, 1):
            if stop_on_zero:
                gen.close()
                return None
            raise RuntimeError("tlslite would block")
        result = r
    return result


def tlslite_rw(pair: tuple[Any, Any], msg: bytes) -> Callable[[int], int]:
    c, s = pair
    size = len(msg)

    def run(n: int) -> int:
        for _ in range(n):
            _tlslite_drain(c.writeAsync(msg))
            got = 0
            while got < size:
                got += len(_tlslite_drain(s.readAsync(size - got, size - got)))
        return n * size

    return run


# ----------------------------------------------------------------------------- helpers


def make_runner(impl: str, suite: str, kind: str) -> Callable[[int], int]:
    """``run(n)`` for impl in native/python/ssl/tlslite and kind in bulk/small."""
    if impl in ("native", "python"):
        c, s = ferro_pair(impl, suite)
        return (ferro_bulk if kind == "bulk" else ferro_small)(c, s)
    if impl == "ssl":
        return (ssl_bulk if kind == "bulk" else ssl_small)(ssl_pair(suite))
    if impl == "tlslite":
        return tlslite_rw(tlslite_pair(suite), b"\0" * CHUNK if kind == "bulk" else b"m" * SMALL)
    raise ValueError(impl)


def rate(run: Callable[[int], int], n: int, reps: int = 5) -> tuple[float, float]:
    """Best-of-``reps`` (bytes/s, rounds/s) of ``run(n)`` (``ferrotls.apps.sslpeer.measure``)."""
    r = measure(run, n=n, reps=reps, warmup=max(1, n // 10))
    return r.units_per_second, r.per_second


def in_threads(runs: list[Callable[[int], int]], n: int) -> tuple[float, int]:
    """Run each ``run(n)`` in its own thread, started together: (seconds from the
    common start to the last one's end, sum of their results)."""
    barrier = threading.Barrier(len(runs) + 1)
    done: list[int] = []

    def work(r: Callable[[int], int]) -> None:
        barrier.wait()
        done.append(r(n))

    ts = [threading.Thread(target=work, args=(r,)) for r in runs]
    for t in ts:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in ts:
        t.join()
    return time.perf_counter() - t0, sum(done)


def two_thread_rate(impl: str, suite: str, n: int, reps: int = 3) -> tuple[float, float]:
    """(one-thread bytes/s, two-thread aggregate bytes/s): each thread has its own pair."""
    runs = [make_runner(impl, suite, "bulk") for _ in range(2)]
    one, _ = rate(runs[0], n, reps)
    best = min(in_threads(runs, n)[0] for _ in range(reps))
    return one, 2 * n * CHUNK / best


def spin(impl: str, suite: str, kind: str, seconds: float) -> None:
    """Run the pump for ``seconds`` (a target for a sampling profiler)."""
    run = make_runner(impl, suite, kind)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        run(200)


if __name__ == "__main__":  # quick look: python benches/throughput.py [impl ...]
    if sys.argv[1:2] == ["--spin"]:  # --spin IMPL SUITE KIND SECONDS
        spin(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
        sys.exit(0)
    impls = sys.argv[1:] or ["native", "ssl"]
    for suite in SUITES:
        for impl in impls:
            slow = impl in ("python", "tlslite")
            b, _ = rate(make_runner(impl, suite, "bulk"), 4 if slow else 3000, 3)
            _, m = rate(make_runner(impl, suite, "small"), 50 if slow else 50000, 3)
            print(f"{suite:10} {impl:8} bulk {b / 1e6:10.2f} MB/s   small {m:12,.0f} msg/s", flush=True)
    if os.environ.get("TWO_THREADS"):
        one, two = two_thread_rate("native", "aes128gcm", 3000)
        print(f"native two threads: {one / 1e6:.0f} -> {two / 1e6:.0f} MB/s ({two / one:.2f}x)")
