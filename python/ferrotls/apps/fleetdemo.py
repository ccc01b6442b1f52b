"""The demo's fleet step: two server instances resuming each other's sessions through Redis.

A throw-away ``redis-server`` on 127.0.0.1 (no persistence, its own temporary
directory), two ferrotls server configurations ("instance A" and "instance B")
each with its own :func:`ferrotls.shared.redis_shared_state` (the same KEK, as a
fleet shares it), and one client: a full handshake with A, then a resumption
with B using A's ticket.  Skipped, with the reason, when redis-server or
redis-py is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time

from ..config import ClientConfig, ServerConfig
from ..connection import ClientConnection, ServerConnection, pump
from ..events import HandshakeComplete, SessionTicket
from .testpki import make_test_pki

__all__ = ["shared_resumption_demo"]


def _redis_binary() -> str | None:
    found = shutil.which("redis-server")
    if found:
        return found
    places = ("/usr/bin/redis-server", "/usr/sbin/redis-server")
    return next((p for p in places if os.path.exists(p)), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def shared_resumption_demo() -> list[str]:
    """Run the step; the lines to print (or the one saying why it was skipped)."""
    binary = _redis_binary()
    if binary is None:
        return ["skipped: redis-server is not installed (apt-get install redis-server)"]
    try:
        import redis  # noqa: F401
    except ImportError:
        return ["skipped: redis-py is not installed (pip install 'ferrotls[redis]')"]
    from ..shared import new_kek

    with tempfile.TemporaryDirectory(prefix="ferrotls-demo-redis-") as tmp:
        port = _free_port()
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", tmp, "--daemonize", "no", "--logfile", os.path.join(tmp, "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while not _ping(port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    return ["skipped: redis-server did not start"]
                time.sleep(0.02)
            return _resume_across(f"redis://127.0.0.1:{port}/0", new_kek())
        finally:
            proc.kill()
            proc.wait(10)


def _resume_across(url: str, kek: str) -> list[str]:
    from ..shared import kek_id, parse_kek, redis_shared_state

    pki = make_test_pki(("localhost",))
    lines = [f"redis-server on {url}; both instances hold key-encryption key "
             f"{kek_id(parse_kek(kek)).hex()} (the ticket keys are in Redis sealed under it)"]
    instances = {}
    for name in ("A", "B"):
        ring, strikes = redis_shared_state(url, kek, name=f"instance-{name}", background=False)
        instances[name] = (ServerConfig(certificates=(pki.server,), ticket_keys=ring,
                                        replay_store=strikes), ring)
    client = ClientConfig(verifier=pki.verifier())
    conn = ClientConnection(client, "localhost")
    server = ServerConnection(instances["A"][0])
    pump(conn, server)
    events = conn.events()
    info = next(e for e in events if isinstance(e, HandshakeComplete))
    session = next(e.session for e in events if isinstance(e, SessionTicket))
    lines.append(f"instance A: full handshake (resumed={info.resumed}), ticket under key "
                 f"{instances['A'][1].key_ids[0].hex()}")
    conn = ClientConnection(client, "localhost", session=session)  # type: ignore[arg-type]
    server = ServerConnection(instances["B"][0])
    pump(conn, server)
    info = next(e for e in conn.events() if isinstance(e, HandshakeComplete))
    lines.append(f"instance B: resumed={info.resumed} with instance A's ticket "
                 "(no certificate sent)")
    for _, ring in instances.values():
        ring.close()
    return lines
