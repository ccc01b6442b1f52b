"""DTLS 1.3 and DTLS 1.2 records of real wolfSSL sessions, opened and resealed.

No ferrotls handshake takes part: wolfSSL's example client and server (built
by ``tools/wolfssl_peer.sh``) talk DTLS through a UDP relay on 127.0.0.1 that
keeps every datagram; ferrotls takes the traffic secrets from wolfSSL's key log
and opens every protected record of both directions with its DTLS protectors,
through :class:`ferrotls.dtls_record.DatagramRecordLayer`.  That proves, against
the reference DTLS 1.3 implementation, the unified header and its additional
data (the header *before* record number encryption), record number encryption
with AES and ChaCha20, the "dtls13" key labels, CIDs of both versions (RFC 9147
section 9, RFC 9146 with its AAD) and the DTLS 1.2 nonces and AAD.  Every
record resealed at its sequence number must give wolfSSL's bytes exactly where
the nonce is ours to choose (DTLS 1.3; DTLS 1.2 ChaCha20); wolfSSL picks its
own GCM/CCM explicit nonces.

FERROTLS_WRITE_DTLS_VECTORS=1 writes each capture to tests/vectors/ (see
tests/vectors/README.md), which ``tests/test_dtls_vectors.py`` checks on every run.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from dtls_vectors import SESSIONS, VECTORS, Session, hello_random, open_session, record_list

from ferrotls.backend.interface import Backend

from . import wolfssl

pytestmark = pytest.mark.interop


def capture_vector(session: Session, workdir: Path) -> dict[str, Any]:
    cap = wolfssl.capture(
        workdir,
        dtls13=session.dtls13,
        suite=session.suite_name,
        psk=session.psk,
        client_cid=session.client_cid,
        server_cid=session.server_cid,
    )
    version_h = (wolfssl.build() / "wolfssl" / "version.h").read_text()
    match = re.search(r'LIBWOLFSSL_VERSION_STRING "([^"]+)"', version_h)
    vec: dict[str, Any] = {
        "source": "wolfSSL examples/client and examples/server through a UDP relay on 127.0.0.1 "
        "(tests/interop/test_dtls_wolfssl.py, tools/wolfssl_peer.sh)",
        "wolfssl": match.group(1) if match else "?",
        "session": f"{session.suite_name}, {'PSK' if session.psk else 'ECDSA P-256 certificate'}",
        "version": "dtls1.3" if session.dtls13 else "dtls1.2",
        "suite": session.suite,
        "client_cid": (session.client_cid or "").encode().hex(),
        "server_cid": (session.server_cid or "").encode().hex(),
        "secrets": {k: v.hex() for k, v in cap.keylog.items()},
        "datagrams": [{"from": "client" if c else "server", "hex": d.hex()} for c, d in cap.datagrams],
    }
    if not session.dtls13:
        vec["client_random"] = hello_random(cap.from_client(), 1).hex()
        vec["server_random"] = hello_random(cap.from_server(), 2).hex()
    return vec


@pytest.mark.parametrize("session", SESSIONS, ids=lambda s: s.name)
def test_wolfssl_session(session: Session, backend: Backend, tmp_path: Path) -> None:
    from test_dtls_vectors import check_vector

    vec = capture_vector(session, tmp_path)
    opened, layers = open_session(backend, vec)
    vec["records"] = record_list(opened)
    check_vector(backend, vec)
    if os.environ.get("FERROTLS_WRITE_DTLS_VECTORS") == "1" and backend.name == "native":
        (VECTORS / f"{session.name}.json").write_text(json.dumps(vec, indent=1) + "\n")
