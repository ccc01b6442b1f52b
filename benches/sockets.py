"""Socket drivers on 127.0.0.1: ferrotls (native, python) beside Python's ``ssl``.

Used by ``bench_sockets.py`` (pytest-benchmark) and ``make_results.py``.  The
drivers themselves live in the installed package (``ferrotls.apps.bench.sockets``,
which also serves ``ferrotls bench --sockets``); this module names them for the
benches and adds their plan (calls per run) and units.

Each :class:`SocketBench` owns a server on ``127.0.0.1:0`` -- a thread with a
blocking accept loop (``mode="blocking"``: ``ssl.SSLSocket`` or
``ferrotls.TLSSocket``) or an event loop in a thread (``mode="asyncio"``:
``asyncio.start_server(ssl=...)`` or ``ferrotls.asyncio.start_server``) -- and
runs the client in the calling thread (blocking calls, or its own event loop).
``run(n)`` returns the application bytes (or handshakes) it moved:

* ``bulk``: one connection; the client writes n x 16 KiB (an 8-byte length
  header first), the server reads it all into a 256 KiB buffer and answers one
  byte; MB/s of application data (10**6 bytes), one direction;
* ``rr``: 64-byte request, 64-byte reply, n round trips on one connection;
* ``stream``: n one-way 64-byte messages (one write, so one record, each), then
  the one-byte answer;
* ``handshake``: n times connect + full handshake + close (the server reads to
  the end and closes); the run ends when the server finished all n.

Both contexts: TLS 1.3, AES-128-GCM, X25519, an ECDSA P-256 leaf from an ECDSA
P-256 CA (``ferrotls.apps.testpki.make_test_pki``), server certificate verified
with the host name checked, no session tickets (``ssl``: ``num_tickets = 0``;
ferrotls: ``ticket_count=0``).  TCP_NODELAY on every socket.  ``ssl`` (3.11)
cannot pick TLS 1.3 suites: ``ferrotls.apps.sslpeer.set_ciphersuites`` calls
``SSL_CTX_set_ciphersuites`` through ctypes; if that fails the ssl rows use
OpenSSL's default (AES-256-GCM) and ``SocketBench.note`` says so.

Client and server share one process, so pure-Python work on both sides shares
the GIL; ``ssl`` (and the native backend's seal/open calls) release it while
OpenSSL / Rust works, as they would in any threaded server.
"""

from __future__ import annotations

from ferrotls.apps.bench import HOST
from ferrotls.apps.bench.sockets import CHUNK, KINDS, MODES, SMALL, SocketBench
from ferrotls.apps.testpki import TestPKI, make_test_pki

__all__ = ["CHUNK", "IMPLS", "KINDS", "MODES", "PLAN", "SMALL", "UNITS", "SocketBench", "make_pki"]

IMPLS = ("native", "python", "ssl")


def make_pki() -> TestPKI:
    """The throw-away CA and the server certificate every socket bench uses."""
    return make_test_pki((HOST,))


# the unit of each kind, and the scale from what run() returns to that unit
UNITS = {"bulk": ("MB/s", 1e-6), "rr": ("round trips/s", 1.0 / SMALL),
         "stream": ("msg/s", 1.0 / SMALL), "handshake": ("hs/s", 1.0)}

# calls per run for the fast implementations and for ferrotls-python
PLAN = {"bulk": (2048, 32), "rr": (5000, 100), "stream": (20000, 300), "handshake": (300, 6)}
