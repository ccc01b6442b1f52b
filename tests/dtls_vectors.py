"""DTLS sessions captured from wolfSSL (tests/vectors/dtls_*.json), and the checks
run on them: by ``test_dtls_vectors.py`` on the committed files (both backends),
and by ``interop/test_dtls_wolfssl.py`` on a fresh capture, which also writes
the files when FERROTLS_WRITE_DTLS_VECTORS=1.

A vector holds every datagram of one session in relay order, the key log
secrets (a throw-away session's: they protect nothing), and the records
ferrotls opened from them.  :func:`open_session` runs a
:class:`ferrotls.dtls_record.DatagramRecordLayer` per direction over the
datagrams, with read protectors for every epoch built from the secrets
(DTLS 1.3: ``dtls_record.dtls13_record_keys``, the "dtls13" labels; DTLS 1.2:
``keyschedule12.key_block`` from the CLIENT_RANDOM master secret and the
hellos' randoms), and returns what opened.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ferrotls import keyschedule12 as ks12
from ferrotls.backend.interface import Backend, DatagramProtector
from ferrotls.dtls_record import DTLS_1_2, DTLS_1_3, DatagramRecordLayer, DtlsRecord, dtls13_record_keys
from ferrotls.suites import TLS12_SUITES

VECTORS = Path(__file__).resolve().parent / "vectors"
CLIENT_MESSAGE = b"hello wolfssl!"
SERVER_MESSAGE = b"I hear you fa shizzle!"
HS_CLIENT_HELLO = 1
HS_SERVER_HELLO = 2


@dataclass(frozen=True)
class Session:
    """One wolfSSL session to capture (``suite_name`` in wolfSSL's names)."""

    name: str
    dtls13: bool
    suite_name: str
    suite: int
    psk: bool = True
    client_cid: str | None = None
    server_cid: str | None = None


SESSIONS = [
    Session("dtls13_aes128gcm_psk_cid", True, "TLS13-AES128-GCM-SHA256", 0x1301, client_cid="abc", server_cid="xyz12"),
    Session("dtls13_chacha20_psk", True, "TLS13-CHACHA20-POLY1305-SHA256", 0x1303),
    Session("dtls13_aes128ccm8_psk", True, "TLS13-AES128-CCM-8-SHA256", 0x1305),
    Session("dtls13_aes256gcm_ecdsa", True, "TLS13-AES256-GCM-SHA384", 0x1302, psk=False),
    Session("dtls12_ecdhe_psk_chacha20", False, "ECDHE-PSK-CHACHA20-POLY1305", 0xCCAC),
    Session("dtls12_ecdhe_ecdsa_ccm8_cid", False, "ECDHE-ECDSA-AES128-CCM-8", 0xC0AE, psk=False, client_cid="abc", server_cid="xyz12"),
    Session("dtls12_ecdhe_psk_gcm_cid", False, "ECDHE-PSK-AES128-GCM-SHA256", 0xD001, client_cid="c1", server_cid="s2s2"),
]


def handshake_messages(datagram: bytes) -> list[bytes]:
    """The plaintext (epoch 0) handshake message fragments of a datagram (DTLS header included)."""
    out = []
    pos = 0
    while pos + 13 <= len(datagram) and datagram[pos] < 0x20:
        length = int.from_bytes(datagram[pos + 11 : pos + 13], "big")
        if datagram[pos] == 22 and datagram[pos + 3 : pos + 5] == b"\0\0":
            out.append(datagram[pos + 13 : pos + 13 + length])
        pos += 13 + length
    return out


def hello_random(datagrams: list[bytes], msg_type: int) -> bytes:
    """The random of the last ClientHello / ServerHello in ``datagrams``."""
    found = b""
    for d in datagrams:
        for m in handshake_messages(d):
            if m[0] == msg_type:
                found = m[12 + 2 : 12 + 34]
    assert len(found) == 32, "hello not found"
    return found


def protectors(
    backend: Backend, vec: dict[str, Any], from_client: bool, sequence: int = 0
) -> list[DatagramProtector]:
    """The protectors of one direction, one per epoch (the sender's keys, the
    receiver's CID), sealing from ``sequence``."""
    sender = "CLIENT" if from_client else "SERVER"
    # the receiver's CID is in the sender's records: the server's for the client's records
    cid = bytes.fromhex(vec["server_cid"] if from_client else vec["client_cid"])
    suite = vec["suite"]
    secrets = {k: bytes.fromhex(v) for k, v in vec["secrets"].items()}
    if vec["version"] == "dtls1.3":
        out = []
        for epoch, label in ((2, "HANDSHAKE_TRAFFIC_SECRET"), (3, "TRAFFIC_SECRET_0")):
            key, iv, sn = dtls13_record_keys(backend, suite, secrets[f"{sender}_{label}"])
            out.append(backend.dtls13_record_protector(suite, key, iv, sn, epoch, sequence, connection_id=cid))
        return out
    block = ks12.key_block(
        backend,
        TLS12_SUITES[suite],
        secrets["CLIENT_RANDOM"],
        bytes.fromhex(vec["client_random"]),
        bytes.fromhex(vec["server_random"]),
    )
    key, iv = block.write_keys(from_client)
    return [backend.dtls12_record_protector(suite, key, iv, 1, sequence, connection_id=cid)]


def open_session(backend: Backend, vec: dict[str, Any]) -> tuple[list[list[DtlsRecord]], list[DatagramRecordLayer]]:
    """Per datagram, the records that opened; and the two receiving layers (client's
    records at index 0, server's at 1) for their drop counts."""
    version = DTLS_1_3 if vec["version"] == "dtls1.3" else DTLS_1_2
    layers = []
    for from_client in (True, False):
        layer = DatagramRecordLayer(version)
        for p in protectors(backend, vec, from_client):
            layer.install_read_protector(p)
        layers.append(layer)
    out = []
    for d in vec["datagrams"]:
        layer = layers[0 if d["from"] == "client" else 1]
        layer.feed(bytes.fromhex(d["hex"]))
        out.append(layer.read_dtls_records())
    return out, layers


def record_list(opened: list[list[DtlsRecord]]) -> list[dict[str, Any]]:
    """The JSON form of the opened records."""
    return [
        {"datagram": i, "epoch": r.epoch, "sequence": r.sequence, "content_type": r.content_type, "content": r.payload.hex()}
        for i, records in enumerate(opened)
        for r in records
    ]


def cid_len(vec: dict[str, Any], from_client: bool) -> int:
    """The length of the CID in one direction's records (the receiver's CID)."""
    return len(bytes.fromhex(vec["server_cid"] if from_client else vec["client_cid"]))


def protected_records(vec: dict[str, Any], datagram: bytes, from_client: bool) -> list[bytes]:
    """The protected records of a datagram, split by their headers (our own small
    parser, independent of the record layer under test)."""
    out = []
    pos = 0
    n = cid_len(vec, from_client)
    while pos < len(datagram):
        first = datagram[pos]
        if vec["version"] == "dtls1.3" and first & 0xE0 == 0x20:
            hlen = 1 + (n if first & 0x10 else 0) + (2 if first & 0x08 else 1)
            if first & 0x04:
                end = pos + hlen + 2 + int.from_bytes(datagram[pos + hlen : pos + hlen + 2], "big")
            else:
                end = len(datagram)
            out.append(datagram[pos:end])
            pos = end
            continue
        c = n if first == 25 else 0
        end = pos + 13 + c + int.from_bytes(datagram[pos + 11 + c : pos + 13 + c], "big")
        if datagram[pos + 3 : pos + 5] != b"\0\0":
            out.append(datagram[pos:end])
        pos = end
    return out


def load(name: str) -> dict[str, Any]:
    return json.loads((VECTORS / f"{name}.json").read_text())  # type: ignore[no-any-return]
