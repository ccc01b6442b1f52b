"""GnuTLS peers for the TLS 1.2 interop tests (``gnutls-cli``, ``gnutls-serv``).

``gnutls-cli`` connects to a ferrotls server on 127.0.0.1.  ``gnutls-serv`` has no
option to choose its listening address (it binds the wildcard address), so it runs
in a network namespace of its own that holds nothing but a loopback interface
(``unshare -n``); the test reaches it by creating its socket inside that namespace
(``setns(2)`` from a short-lived thread), and nothing outside the machine, nor
outside that namespace, can.  Without the ``unshare``/``setns`` privileges the
gnutls-serv tests skip.

:func:`require` skips a test when a GnuTLS program is missing, or fails it when
FERROTLS_INTEROP=1 (the full interop run, ``make test`` and CI) asks for every peer.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shlex
import shutil
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from .peers import LOOPBACK, TIMEOUT, OpenSSLProcess

__all__ = [
    "GNUTLS_PORT", "cli_args", "connect_in_namespace", "gnutls_cli", "gnutls_serv", "priority",
    "require", "udp_socket_in_namespace",
]

GNUTLS_PORT = 4433
"""gnutls-serv's port inside its own network namespace (nothing else listens there)."""
_CLONE_NEWNET = 0x40000000


def require(program: str) -> str:
    path = shutil.which(program)
    if path is not None:
        return path
    message = f"{program} is not installed (apt-get install gnutls-bin)"
    if os.environ.get("FERROTLS_INTEROP") == "1":
        pytest.fail(f"{message}; FERROTLS_INTEROP=1 runs every interop peer")
    pytest.skip(message)


def priority(kx: str | None = None, cipher: str | None = None, version: str = "TLS1.2") -> str:
    """``NORMAL:-VERS-ALL:+VERS-TLS1.2`` (``version="DTLS1.2"``: ``+VERS-DTLS1.2``),
    narrowed to one key exchange and cipher."""
    out = f"NORMAL:-VERS-ALL:+VERS-{version}"
    if kx is not None:
        out += f":-KX-ALL:+{kx}"
    if cipher is not None:
        out += f":-CIPHER-ALL:+{cipher}:-MAC-ALL:+AEAD"
    return out


@contextlib.contextmanager
def gnutls_cli(port: int, *args: str, timeout: float = TIMEOUT) -> Iterator[OpenSSLProcess]:
    """``gnutls-cli -p PORT 127.0.0.1 ARGS``; its stdin lines are sent, what it
    receives is printed."""
    program = (require("gnutls-cli"),)
    proc = OpenSSLProcess(["-p", str(port), LOOPBACK, *args], timeout, program=program)
    try:
        yield proc
    finally:
        proc.stop()


def _can_unshare() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    import subprocess

    try:
        done = subprocess.run([unshare, "-n", "true"], capture_output=True, timeout=10)
        return done.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@contextlib.contextmanager
def gnutls_serv(*args: str, timeout: float = TIMEOUT) -> Iterator[OpenSSLProcess]:
    """``gnutls-serv -p 4433 ARGS`` alone in a new network namespace (loopback only)."""
    serv = require("gnutls-serv")
    if not _can_unshare():
        pytest.skip("gnutls-serv listens on every address: it needs unshare -n (a network "
                    "namespace with loopback only), which is not permitted here")
    script = "ip link set lo up && exec " + shlex.join([serv, "-p", str(GNUTLS_PORT), *args])
    program = (shutil.which("unshare") or "unshare",)
    proc = OpenSSLProcess(["-n", "sh", "-c", script], timeout, program=program)
    try:
        # "...listening on IPv4 0.0.0.0 port 4433...done": "done" once it listens
        proc.wait_for(re.compile(rb"listening on IPv4 \S+ port \d+\.\.\.done"))
        yield proc
    finally:
        proc.stop()


def _in_namespace(proc: OpenSSLProcess, make: Callable[[], socket.socket], timeout: float) -> socket.socket:
    """``make()`` run inside ``proc``'s network namespace; the socket stays there
    whichever thread uses it.  A thread of its own: setns(2) moves only the calling
    thread, which then ends."""
    libc = ctypes.CDLL(None, use_errno=True)
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            fd = os.open(f"/proc/{proc.proc.pid}/ns/net", os.O_RDONLY)
            try:
                if libc.setns(fd, _CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns: {os.strerror(err)}")
            finally:
                os.close(fd)
            result["sock"] = make()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            result["error"] = exc

    thread = threading.Thread(target=run, name="netns-socket", daemon=True)
    thread.start()
    thread.join(timeout)
    if "error" in result:
        raise result["error"]
    sock: socket.socket = result["sock"]
    return sock


def connect_in_namespace(
    proc: OpenSSLProcess, port: int = GNUTLS_PORT, timeout: float = TIMEOUT
) -> socket.socket:
    """A TCP connection to 127.0.0.1:``port`` inside ``proc``'s network namespace."""
    return _in_namespace(proc, lambda: socket.create_connection((LOOPBACK, port), timeout=timeout), timeout)


def udp_socket_in_namespace(proc: OpenSSLProcess, timeout: float = TIMEOUT) -> socket.socket:
    """A UDP socket bound to 127.0.0.1 inside ``proc``'s network namespace (for
    ``gnutls-serv --udp``)."""

    def bound() -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((LOOPBACK, 0))
        return sock

    return _in_namespace(proc, bound, timeout)


def cli_args(ca_pem: Any, *extra: str, name: str = "localhost") -> Sequence[str]:
    return ["--x509cafile", str(ca_pem), "--verify-hostname", name, "--sni-hostname", name, *extra]
