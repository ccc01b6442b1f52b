"""wolfSSL's example DTLS client and server as a test peer, through a UDP relay.

``tools/wolfssl_peer.sh`` builds wolfSSL (the sources of the ``wolfssl-sys``
crate) with DTLS 1.3, DTLS 1.2, connection IDs, PSK, AES-CCM and key-log export
into a cache directory, once.  :func:`capture` runs one session between
``examples/server/server`` and ``examples/client/client`` on 127.0.0.1 through a
relay that keeps every datagram with its direction, and returns them with the
session's key log.  The examples run in a scratch directory holding the files
they look for (``certs/dh2048.pem``; an ECDSA P-256 certificate when asked for),
so the key log (``sslkeylog.log``, wolfSSL's fixed name) lands there.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .peers import LOOPBACK

_ROOT = Path(__file__).resolve().parent.parent.parent
PEER_SCRIPT = _ROOT / "tools" / "wolfssl_peer.sh"
CLIENT_MESSAGE = b"hello wolfssl!"
"""What wolfSSL's example client sends once the handshake is done."""
SERVER_MESSAGE = b"I hear you fa shizzle!"
"""What wolfSSL's example server answers."""


def build() -> Path:
    """The wolfSSL build directory (building it on the first call); raises
    RuntimeError with the script's output when the build fails."""
    proc = subprocess.run(["bash", str(PEER_SCRIPT)], capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"tools/wolfssl_peer.sh failed:\n{proc.stdout}\n{proc.stderr}")
    return Path(proc.stdout.strip().splitlines()[-1])


@dataclass
class Capture:
    """One session: datagrams as ``(from_client, bytes)`` in relay order, and the key log."""

    datagrams: list[tuple[bool, bytes]] = field(default_factory=list)
    keylog: dict[str, bytes] = field(default_factory=dict)
    client_output: str = ""
    server_output: str = ""

    def from_client(self) -> list[bytes]:
        return [d for c, d in self.datagrams if c]

    def from_server(self) -> list[bytes]:
        return [d for c, d in self.datagrams if not c]


class UdpRelay:
    """Forward datagrams between one client and a server on 127.0.0.1, keeping each."""

    def __init__(self, server_port: int) -> None:
        self.server = (LOOPBACK, server_port)
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind((LOOPBACK, 0))
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.bind((LOOPBACK, 0))
        self.port = self.front.getsockname()[1]
        self.datagrams: list[tuple[bool, bytes]] = []
        self._client: tuple[str, int] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> UdpRelay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.front.close()
        self.back.close()

    def _run(self) -> None:
        import select

        while not self._stop.is_set():
            ready, _, _ = select.select([self.front, self.back], [], [], 0.05)
            for sock in ready:
                data, addr = sock.recvfrom(65536)
                if sock is self.front:
                    self._client = addr
                    self.datagrams.append((True, data))
                    self.back.sendto(data, self.server)
                elif self._client is not None:
                    self.datagrams.append((False, data))
                    self.front.sendto(data, self._client)


def run_dir(tmp_path: Path, build_dir: Path) -> Path:
    """``tmp_path`` made a working directory for the example programs (they read
    certs/dh2048.pem relative to it)."""
    (tmp_path / "certs").mkdir(exist_ok=True)
    (tmp_path / "certs" / "dh2048.pem").write_bytes((build_dir / "certs" / "dh2048.pem").read_bytes())
    return tmp_path


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def _prepare(workdir: Path, build_dir: Path, ecdsa: bool) -> None:
    (workdir / "certs").mkdir(parents=True, exist_ok=True)
    dh = build_dir / "certs" / "dh2048.pem"
    shutil.copy(dh, workdir / "certs" / "dh2048.pem")
    if ecdsa:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-subj", "/CN=localhost", "-days", "30",
             "-keyout", str(workdir / "server.key"), "-out", str(workdir / "server.pem")],
            check=True, capture_output=True, timeout=60,
        )


def parse_keylog(text: str) -> dict[str, bytes]:
    """NSS key log lines -> {label: secret} (the client random is dropped)."""
    out: dict[str, bytes] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3:
            out[parts[0]] = bytes.fromhex(parts[2])
    return out


def capture(
    workdir: Path,
    *,
    dtls13: bool,
    suite: str,
    psk: bool = True,
    client_cid: str | None = None,
    server_cid: str | None = None,
    timeout: float = 30.0,
) -> Capture:
    """Run one wolfSSL DTLS session (``suite`` in wolfSSL's names) and capture it.

    ``psk``: the examples' built-in PSK (identity "Client_identity"), else an
    ECDSA P-256 certificate made here.  ``client_cid`` / ``server_cid``: the
    connection ID each side asks to receive (``--cid``)."""
    build_dir = build()
    _prepare(workdir, build_dir, ecdsa=not psk)
    version = "4" if dtls13 else "3"
    port = _free_udp_port()
    common = ["-u", "-v", version, "-l", suite]
    server_args = [str(build_dir / "examples" / "server" / "server"), *common, "-p", str(port), "-d"]
    client_args = [str(build_dir / "examples" / "client" / "client"), *common, "-x", "-d"]
    if psk:
        server_args.append("-s")
        client_args.append("-s")
    else:
        server_args += ["-c", str(workdir / "server.pem"), "-k", str(workdir / "server.key")]
    if server_cid is not None:
        server_args += ["--cid", server_cid]
    if client_cid is not None:
        client_args += ["--cid", client_cid]
    env = dict(os.environ)
    server = subprocess.Popen(
        server_args, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        with UdpRelay(port) as relay:
            client = subprocess.run(
                [*client_args, "-p", str(relay.port)], cwd=workdir, capture_output=True,
                text=True, timeout=timeout, env=env,
            )
            server_out, _ = server.communicate(timeout=timeout)
            datagrams = list(relay.datagrams)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    result = Capture(
        datagrams=datagrams,
        keylog=parse_keylog((workdir / "sslkeylog.log").read_text() if (workdir / "sslkeylog.log").exists() else ""),
        client_output=client.stdout + client.stderr,
        server_output=server_out,
    )
    if client.returncode != 0 or server.returncode != 0:
        raise RuntimeError(
            f"wolfSSL session failed (client {client.returncode}, server {server.returncode}):\n"
            f"client: {result.client_output}\nserver: {result.server_output}"
        )
    return result
