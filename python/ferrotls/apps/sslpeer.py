"""Python's ``ssl`` module (OpenSSL) as the reference peer of every bench and comparison.

Everything that measures ferrotls beside ``ssl`` -- ``ferrotls bench``, the
demonstration and the pytest benches under ``benches/`` -- drives ``ssl``
through this module, so each number is taken the same way:

* :func:`client_context` and :func:`server_context`: TLS 1.3-only contexts;
  the client verifies the server's certificate and host name, the server
  takes its chain and key as PEM bytes;
* :func:`set_ciphersuites`: pins the TLS 1.3 cipher suites of a context.
  Python 3.11's ``ssl`` has no call for it, so OpenSSL's
  ``SSL_CTX_set_ciphersuites`` is reached through ctypes; it returns False
  where that is not possible, and callers then report OpenSSL's default suite;
* :class:`SslPeer`: both ends of a connection in one thread, joined by
  ``ssl.MemoryBIO`` pairs; :meth:`SslPeer.handshake` returns an
  :class:`SslPair` with the bytes sent each way, and
  :meth:`SslPair.sender` the bulk-transfer loop;
* :func:`measure` (with :func:`repeat` and :class:`Rate`): the one timing loop,
  for ``ssl`` and ferrotls alike -- a fixed round count, best of a few runs, or
  a round count grown until one run lasts a target time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import ssl
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = [
    "Rate",
    "SslPair",
    "SslPeer",
    "client_context",
    "measure",
    "repeat",
    "server_context",
    "set_ciphersuites",
]

MAX_HANDSHAKE_STEPS = 100
"""Rounds of the handshake pump before it gives up (a TLS 1.3 handshake takes 2 or 3)."""


# --------------------------------------------------------------------------- contexts


def client_context(cadata: bytes | str | None = None) -> ssl.SSLContext:
    """A TLS 1.3-only client context that trusts ``cadata`` (PEM).

    ``PROTOCOL_TLS_CLIENT``: the server's certificate is verified and its host
    name checked, as ferrotls's clients do in every comparison.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    if cadata is not None:
        ctx.load_verify_locations(cadata=cadata.decode("ascii") if isinstance(cadata, bytes) else cadata)
    return ctx


def server_context(chain_pem: bytes, key_pem: bytes, *, num_tickets: int | None = None) -> ssl.SSLContext:
    """A TLS 1.3-only server context with the certificate chain and key given as PEM.

    ``num_tickets`` sets how many session tickets it sends after each handshake
    (OpenSSL's default, 2, when None).  The ``ssl`` module loads certificates
    from files only, so the PEM goes through a temporary directory that is gone
    when this returns.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    with tempfile.TemporaryDirectory(prefix="ferrotls-sslpeer-") as tmp:
        cert_path, key_path = os.path.join(tmp, "chain.pem"), os.path.join(tmp, "key.pem")
        with open(cert_path, "wb") as f:
            f.write(chain_pem)
        with open(key_path, "wb") as f:  # the directory is the caller's alone (mode 0700)
            f.write(key_pem)
        ctx.load_cert_chain(cert_path, key_path)
    if num_tickets is not None:
        ctx.num_tickets = num_tickets
    return ctx


@functools.cache
def _ssl_ctx_set_ciphersuites() -> Any:
    """OpenSSL's ``SSL_CTX_set_ciphersuites`` from the libssl the ``_ssl`` module uses, or None."""
    import _ssl

    fn: Any = None
    try:
        fn = ctypes.CDLL(_ssl.__file__).SSL_CTX_set_ciphersuites  # found through _ssl's dependencies
    except (AttributeError, OSError):  # a built-in _ssl has no file; an old libssl has no symbol
        found = ctypes.util.find_library("ssl")
        if found is None:
            return None
        try:
            fn = ctypes.CDLL(found).SSL_CTX_set_ciphersuites
        except (AttributeError, OSError):
            return None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    fn.restype = ctypes.c_int
    return fn


def set_ciphersuites(ctx: ssl.SSLContext, names: str) -> bool:
    """Limit ``ctx`` to the TLS 1.3 cipher suites ``names`` (OpenSSL names, colon-separated).

    Returns False, leaving ``ctx`` as it was, when the call is not available;
    callers then use OpenSSL's default suite and say so.  It goes through
    ctypes: a ``PySSLContext`` (CPython's Modules/_ssl.c) starts with the
    object header and then its ``SSL_CTX *``.
    """
    fn = _ssl_ctx_set_ciphersuites()
    if fn is None:
        return False
    ptr = ctypes.c_void_p.from_address(id(ctx) + object.__basicsize__).value
    return bool(ptr) and fn(ptr, names.encode("ascii")) == 1


# --------------------------------------------------------------------------- in memory


def _step(obj: ssl.SSLObject) -> bool:
    """One ``do_handshake`` call: True once the handshake is complete."""
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        return False
    return True


@dataclass
class SslPair:
    """An established ``ssl`` client and server joined by memory BIOs, and what the handshake sent."""

    client: ssl.SSLObject
    server: ssl.SSLObject
    client_in: ssl.MemoryBIO
    client_out: ssl.MemoryBIO
    server_in: ssl.MemoryBIO
    server_out: ssl.MemoryBIO
    c2s: int = 0
    """Bytes client -> server: every record (ClientHello, CCS, client Finished)."""
    s2c: int = 0
    """Bytes server -> client: every record, session tickets included."""
    s2c_flight: int = 0
    """Bytes server -> client before the client had its Finished ready (the server's flight)."""

    def sender(self, chunk: bytes) -> Callable[[int], int]:
        """``run(n)``: n times the client writes ``chunk``, its records move to the
        server and the server reads all of it; returns the plaintext bytes read."""
        size = len(chunk)
        write, take, give, read = (self.client.write, self.client_out.read, self.server_in.write,
                                   self.server.read)

        def run(n: int) -> int:
            for _ in range(n):
                write(chunk)
                give(take())
                got = len(read(size))
                while got < size:
                    got += len(read(size - got))
            return n * size

        return run


class SslPeer:
    """Both ends of ``ssl`` connections in memory, from two contexts built once (as a server would).

    ``suite`` pins the TLS 1.3 cipher suite on both contexts with
    :func:`set_ciphersuites`; :attr:`suite_pinned` says whether that worked.
    """

    def __init__(self, client: ssl.SSLContext, server: ssl.SSLContext, host: str, *,
                 suite: str | None = None) -> None:
        self.client_context = client
        self.server_context = server
        self.host = host
        self.suite_pinned = suite is None or (set_ciphersuites(client, suite)
                                              and set_ciphersuites(server, suite))

    @classmethod
    def from_pem(cls, ca_pem: bytes, chain_pem: bytes, key_pem: bytes, host: str, *,
                 suite: str | None = None, num_tickets: int | None = 0) -> SslPeer:
        """Contexts from PEM: the client trusts ``ca_pem``, the server has the chain and key.

        No session tickets by default (ferrotls's benches send none either).
        """
        return cls(client_context(ca_pem), server_context(chain_pem, key_pem, num_tickets=num_tickets),
                   host, suite=suite)

    def handshake(self, session: ssl.SSLSession | None = None) -> SslPair:
        """New client and server objects and a full (or, with ``session``, resumed) handshake.

        The client also takes the server's session tickets, if it sent any, as
        on its first read; its ``session`` is then the newest ticket.
        """
        ci, co, si, so = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
        c = self.client_context.wrap_bio(ci, co, server_hostname=self.host, session=session)
        s = self.server_context.wrap_bio(si, so, server_side=True)
        pair = SslPair(c, s, ci, co, si, so, s2c_flight=-1)
        client_done = server_done = False
        for _ in range(MAX_HANDSHAKE_STEPS):
            if not client_done:
                client_done = _step(c)
            if data := co.read():
                pair.c2s += len(data)
                si.write(data)
            if client_done and pair.s2c_flight < 0:
                pair.s2c_flight = pair.s2c
            if not server_done:
                server_done = _step(s)
            if data := so.read():
                pair.s2c += len(data)
                ci.write(data)
            if client_done and server_done:
                break
        else:
            raise RuntimeError("ssl handshake did not finish")
        if ci.pending:  # NewSessionTicket records
            try:
                c.read(1)
            except ssl.SSLWantReadError:
                pass
        return pair

    def handshakes(self, session: ssl.SSLSession | None = None) -> Callable[[int], int]:
        """``run(n)``: n handshakes (see :meth:`handshake`); returns n."""
        return repeat(functools.partial(self.handshake, session))


# --------------------------------------------------------------------------- timing


class Rate(NamedTuple):
    """What :func:`measure` found for ``run(n)``."""

    per_second: float
    """Rounds (the ``n`` of ``run(n)``) per second."""
    units_per_second: float
    """What ``run`` returned (bytes, messages, handshakes...) per second."""


def repeat(fn: Callable[[], object]) -> Callable[[int], int]:
    """``run(n)`` that calls ``fn()`` n times and returns n: a one-shot action for :func:`measure`."""

    def run(n: int) -> int:
        for _ in range(n):
            fn()
        return n

    return run


def measure(run: Callable[[int], int], *, n: int | None = None, target: float = 0.2,
            reps: int = 1, warmup: int = 1) -> Rate:
    """Time ``run(n)``, which does n rounds and returns the units it moved.

    First ``run(warmup)`` (none when 0).  With ``n``, the best (shortest) of
    ``reps`` runs of ``run(n)``.  Without it, n starts at 1 and grows until one
    run lasts ``target`` seconds; that run counts as the first of ``reps``.
    """
    if warmup:
        run(warmup)
    best = float("inf")
    units = 0
    if n is None:
        n = 1
        while True:
            start = time.perf_counter()
            units = run(n)
            best = time.perf_counter() - start
            if best >= target or n >= 1 << 24:
                break
            n = max(n * 2, int(n * target / max(best, 1e-6) * 1.1))
        reps -= 1
    for _ in range(reps):
        start = time.perf_counter()
        moved = run(n)
        elapsed = time.perf_counter() - start
        if elapsed < best:
            best, units = elapsed, moved
    return Rate(n / best, units / best)
