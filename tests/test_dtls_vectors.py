"""DTLS records captured from wolfSSL sessions (tests/vectors/dtls*.json), on both backends.

Each vector is a whole wolfSSL session (see ``dtls_vectors`` and
``interop/test_dtls_wolfssl.py``).  Checked here:

* every protected record of both directions opens -- none is dropped -- through
  ``DatagramRecordLayer``, giving the recorded (epoch, sequence, type, content),
  with wolfSSL's application messages where they belong;
* record number encryption: the header's sequence number bytes XOR
  ``record_number_mask(ciphertext[:16])`` are the low bits of the sequence number;
* resealing each record at its sequence number with the same header form and
  padding gives wolfSSL's bytes exactly (DTLS 1.3, and DTLS 1.2 ChaCha20, where
  the nonce is fixed by the sequence number; wolfSSL picks its own GCM/CCM
  explicit nonces, so those are checked by opening only);
* replaying a datagram drops its records as replays; flipping a bit drops a record.
"""

from __future__ import annotations

from typing import Any

import pytest
from dtls_vectors import (
    CLIENT_MESSAGE,
    SERVER_MESSAGE,
    SESSIONS,
    cid_len,
    load,
    open_session,
    protected_records,
    protectors,
    record_list,
)

from ferrotls.backend.interface import Backend


def check_vector(backend: Backend, vec: dict[str, Any]) -> None:
    opened, layers = open_session(backend, vec)
    assert record_list(opened) == vec["records"]
    for layer in layers:
        assert layer.dropped.total == 0, layer.dropped
    app = [(d["from"], bytes.fromhex(r["content"])) for r in vec["records"] if r["content_type"] == 23
           for d in [vec["datagrams"][r["datagram"]]]]
    assert app == [("client", CLIENT_MESSAGE), ("server", SERVER_MESSAGE)]
    epochs = {r["epoch"] for r in vec["records"]}
    assert epochs == ({0, 2, 3} if vec["version"] == "dtls1.3" else {0, 1})
    dtls13 = vec["version"] == "dtls1.3"
    resealable = dtls13 or vec["suite"] in (0xCCA8, 0xCCA9, 0xCCAC)
    checked = 0
    for i, d in enumerate(vec["datagrams"]):
        from_client = d["from"] == "client"
        wire = protected_records(vec, bytes.fromhex(d["hex"]), from_client)
        records = [r for r in opened[i] if r.epoch != 0]
        assert len(wire) == len(records)
        for raw, rec in zip(wire, records):
            (p,) = [p for p in protectors(backend, vec, from_client, rec.sequence) if p.epoch == rec.epoch]
            if dtls13:
                first = raw[0]
                seq_at = 1 + (cid_len(vec, from_client) if first & 0x10 else 0)
                seq_len = 2 if first & 0x08 else 1
                body = raw[seq_at + seq_len + (2 if first & 0x04 else 0) :]
                mask = p.record_number_mask(body[:16])
                low = bytes(a ^ b for a, b in zip(raw[seq_at : seq_at + seq_len], mask))
                assert int.from_bytes(low, "big") == rec.sequence & ((1 << (8 * seq_len)) - 1)
                length_field, bits = bool(first & 0x04), 8 * seq_len
            else:
                length_field, bits = True, 16
            if not resealable:
                continue
            base = p.sealed_size(len(rec.payload), 0, length_field, bits)
            padding = len(raw) - base
            assert padding >= 0
            assert p.seal_record(rec.content_type, rec.payload, padding, length_field, bits) == raw
            checked += 1
    assert checked or not resealable


@pytest.mark.parametrize("name", [s.name for s in SESSIONS])
def test_wolfssl_vector(name: str, backend: Backend) -> None:
    check_vector(backend, load(name))


@pytest.mark.parametrize("name", ["dtls13_aes128gcm_psk_cid", "dtls12_ecdhe_psk_gcm_cid"])
def test_replayed_and_tampered_datagrams_are_dropped(name: str, backend: Backend) -> None:
    vec = load(name)
    last = max(i for i, d in enumerate(vec["datagrams"]) if d["from"] == "server")
    server_datagrams = [d for d in vec["datagrams"] if d["from"] == "server"]
    replay = dict(vec, datagrams=[*vec["datagrams"], vec["datagrams"][last]])
    opened, layers = open_session(backend, replay)
    assert opened[-1] == []
    assert layers[1].dropped.replayed == len(protected_records(vec, bytes.fromhex(server_datagrams[-1]["hex"]), False))
    tampered_hex = bytearray(bytes.fromhex(vec["datagrams"][last]["hex"]))
    tampered_hex[-1] ^= 1
    tampered = dict(vec, datagrams=[*vec["datagrams"][:last], {"from": "server", "hex": tampered_hex.hex()}])
    opened, layers = open_session(backend, tampered)
    assert opened[-1] == []
    assert layers[1].dropped.unauthentic == 1
