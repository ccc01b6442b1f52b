"""Fixtures for the interop tests: a test PKI on disk and ferrotls config makers.

Interop tests are opt-in: they run when the marker expression names
``interop`` (``pytest -m interop``) or when FERROTLS_INTEROP=1 (``make test``
and CI set it); otherwise they are skipped.  They talk only to
127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from certs import TestCA

from .peers import OTHER_NAME, PKI, SERVER_NAME, Leaf

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "interop" in (config.option.markexpr or "") or os.environ.get("FERROTLS_INTEROP") == "1":
        return
    skip = pytest.mark.skip(reason="interop tests are opt-in: run with -m interop or FERROTLS_INTEROP=1")
    for item in items:
        if _HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def wolf() -> Path:
    """The cached wolfSSL build (tools/wolfssl_peer.sh): skipped if it cannot be built,
    a failure under FERROTLS_INTEROP=1, which runs every interop peer."""
    import subprocess

    from . import wolfssl

    try:
        return wolfssl.build()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:  # pragma: no cover
        if os.environ.get("FERROTLS_INTEROP") == "1":
            pytest.fail(f"wolfSSL test peer unavailable: {exc}; FERROTLS_INTEROP=1 runs every interop peer")
        pytest.skip(f"wolfSSL test peer unavailable: {exc}")


@pytest.fixture(scope="session")
def openssl_bin() -> str:
    path = shutil.which("openssl")
    if path is None:
        pytest.skip("the openssl CLI is not on PATH")
    return path


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    tmp = tmp_path_factory.mktemp("interop-pki")
    ca = TestCA("ferrotls interop CA", key_kind="p256", key_index=7)
    ca_pem = tmp / "ca.pem"
    ca_pem.write_bytes(ca.pem())

    def leaf(name: str, *names: str, key_kind: str, key_index: int) -> Leaf:
        issued = ca.issue(*names, key_kind=key_kind, key_index=key_index)
        cert, key = tmp / f"{name}.pem", tmp / f"{name}.key"
        cert.write_bytes(issued.chain_pem())
        key.write_bytes(issued.key_pem())
        return Leaf(issued, cert, key)

    return PKI(
        ca=ca,
        ca_pem=ca_pem,
        server_p256=leaf("server-p256", SERVER_NAME, "127.0.0.1", key_kind="p256", key_index=1),
        server_p384=leaf("server-p384", SERVER_NAME, key_kind="p384", key_index=1),
        server_rsa=leaf("server-rsa", SERVER_NAME, key_kind="rsa2048", key_index=1),
        server_other=leaf("server-other", OTHER_NAME, key_kind="p256", key_index=2),
        client_p256=leaf("client-p256", "client.ferrotls.test", key_kind="p256", key_index=3),
        client_rsa=leaf("client-rsa", "rsa-client.ferrotls.test", key_kind="rsa2048", key_index=3),
    )
