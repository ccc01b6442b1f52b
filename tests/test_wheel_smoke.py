"""Quick checks that the installed package works: ``make test-wheel`` runs them on every Python.

They are part of the normal suite too.  Each handshake crosses a real socket on
127.0.0.1 against the ``ssl`` module (OpenSSL), once per crypto backend:
``ferrotls server`` (a subprocess, so the installed entry point) with an ``ssl``
client, and a sans-I/O ferrotls client with an ``ssl`` server.

``FERROTLS_EXPECT_INSTALLED=wheel|editable`` (the Makefile sets it) also checks
that the ``ferrotls`` under test is the one that was meant: the wheel in
site-packages, not the source tree, or the reverse.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import threading
from importlib import metadata
from pathlib import Path

import ferrotls
import pytest
from ferrotls.apps.testpki import make_test_pki
from local_server import ferrotls_server

pytestmark = pytest.mark.wheel_smoke

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
TIMEOUT = 30.0
BACKENDS = ["native", "python"]

_IMPORT_ALL = r"""
import importlib, importlib.abc, pkgutil, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "typing_extensions" or name.startswith("typing_extensions."):
            raise ImportError("typing_extensions is not a dependency on this Python")
        return None

sys.meta_path.insert(0, Refuse())
import ferrotls
names = ["ferrotls"]
for info in pkgutil.walk_packages(ferrotls.__path__, "ferrotls."):
    if info.name.endswith(".__main__"):
        continue  # runs the command line
    importlib.import_module(info.name)
    names.append(info.name)
print(len(names))
"""


def test_runtime_imports_without_typing_extensions() -> None:
    """On 3.12+ every module of the package imports with typing_extensions made unimportable."""
    if sys.version_info < (3, 12):
        pytest.skip("typing_extensions is a declared dependency before Python 3.12")
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL], capture_output=True, text=True, timeout=TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert int(proc.stdout) > 40  # the whole package, not just __init__


def test_info_reports_the_native_build() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ferrotls", "info"], capture_output=True, text=True,
        timeout=TIMEOUT, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"ferrotls {ferrotls.__version__}"
    assert lines[1].startswith(f"python {sys.version_info.major}.{sys.version_info.minor}.")
    assert "backend native:" in lines
    assert "backend python:" in lines


def test_the_expected_installation_is_under_test() -> None:
    expected = os.environ.get("FERROTLS_EXPECT_INSTALLED")
    if not expected:
        pytest.skip("FERROTLS_EXPECT_INSTALLED not set (the Makefile sets it)")
    package_dir = Path(ferrotls.__file__).resolve().parent
    from_source = package_dir == ROOT / "python" / "ferrotls"
    dist = metadata.distribution("ferrotls")
    direct_url = dist.read_text("direct_url.json")
    editable = bool(direct_url and json.loads(direct_url).get("dir_info", {}).get("editable"))
    if expected == "wheel":
        assert not from_source, f"ferrotls imported from the source tree {package_dir}"
        assert not editable
        assert (package_dir / "py.typed").is_file() and (package_dir / "_native.pyi").is_file()
        assert list(package_dir.glob("_native*.so")), "the wheel carries the native module"
        script = Path(sys.executable).parent / "ferrotls"
        proc = subprocess.run([str(script), "info"], capture_output=True, text=True,
                              timeout=TIMEOUT, check=False)
        assert proc.returncode == 0 and proc.stdout.startswith("ferrotls "), proc.stderr
    elif expected == "editable":
        assert from_source and editable
    else:
        pytest.fail(f"FERROTLS_EXPECT_INSTALLED={expected!r}: expected wheel or editable")


@pytest.mark.parametrize("backend", BACKENDS)
def test_ssl_client_to_ferrotls_server(backend: str, tmp_path: Path) -> None:
    with ferrotls_server("--echo", "--write-ca", "ca.pem", "--backend", backend, cwd=tmp_path) as port:
        ctx = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        with socket.create_connection((LOOPBACK, port), timeout=TIMEOUT) as raw, \
                ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() == "TLSv1.3"
            payload = os.urandom(20_000)
            tls.sendall(payload)
            echoed = b""
            while len(echoed) < len(payload):
                chunk = tls.recv(65536)
                assert chunk, "server closed before echoing everything"
                echoed += chunk
            assert echoed == payload


@pytest.mark.parametrize("backend", BACKENDS)
def test_ferrotls_client_to_ssl_server(backend: str, tmp_path: Path) -> None:
    pki = make_test_pki()
    key_pem, cert_pem = pki.server_pem()
    (tmp_path / "ca.pem").write_bytes(pki.ca_pem)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    server_ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    listener = socket.create_server((LOOPBACK, 0))
    listener.settimeout(TIMEOUT)
    port = listener.getsockname()[1]
    served: list[bytes] = []
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            raw, _ = listener.accept()
            raw.settimeout(TIMEOUT)
            with server_ctx.wrap_socket(raw, server_side=True) as tls:
                request = tls.recv(1024)
                served.append(request)
                tls.sendall(b"pong:" + request)
                tls.unwrap()  # close_notify, and wait for the client's
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        config = ferrotls.create_client_config(cafile=tmp_path / "ca.pem", backend=backend)
        conn = ferrotls.ClientConnection(config, server_hostname="localhost")
        received = b""
        with socket.create_connection((LOOPBACK, port), timeout=TIMEOUT) as sock:
            sock.sendall(conn.data_to_send())
            closed = False
            while not closed:
                data = sock.recv(65536)
                assert data, "the ssl server closed without close_notify"
                conn.receive_data(data)
                for event in conn.events():
                    if isinstance(event, ferrotls.HandshakeComplete):
                        conn.send(b"ping")
                    elif isinstance(event, ferrotls.ApplicationData):
                        received += event.data
                    elif isinstance(event, ferrotls.ConnectionClosed):
                        conn.close()
                        closed = True
                sock.sendall(conn.data_to_send())
        thread.join(TIMEOUT)
    finally:
        listener.close()
    assert not errors, errors
    assert served == [b"ping"]
    assert received == b"pong:ping"
    assert ferrotls.get_backend().name in BACKENDS  # the process default loaded too
