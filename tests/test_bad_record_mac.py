"""Single error for every deprotection failure (RFC 8446 section 5.2): whatever went wrong
-- tag, ciphertext, header (AAD), key, sequence number, a record too short for a tag --
both backends raise BadRecordMac with the same fixed message, so the error is no oracle.

Constant time by construction (docs/robustness.md): the native backend authenticates
with ring's ``open_in_place`` (tag compared in constant time inside ring/BoringSSL code)
before looking at any plaintext byte; the padding scan runs over the authenticated
plaintext only, so its timing depends on the peer's chosen padding length, never on a
secret or on whether a forgery came close.
"""

from __future__ import annotations

from typing import Any

import pytest
from ferrotls.errors import BadRecordMac

SUITES = (0x1301, 0x1302, 0x1303)
KEY_LEN = {0x1301: 16, 0x1302: 32, 0x1303: 32}
MESSAGE = "bad record MAC"


def _protector(backend: Any, suite: int, key_byte: int = 1, seq: int = 0) -> Any:
    p = backend.record_protector(suite, bytes([key_byte]) * KEY_LEN[suite], bytes(12))
    for _ in range(seq):
        p.seal_record(23, b"")
    return p


def _variants(record: bytes) -> dict[str, bytes]:
    body_len = len(record) - 5
    return {
        "tag": record[:-1] + bytes([record[-1] ^ 1]),
        "ciphertext": record[:5] + bytes([record[5] ^ 0x80]) + record[6:],
        "header_version": record[:2] + b"\x04" + record[3:],
        "too_short_for_tag": b"\x17\x03\x03\x00\x0f" + bytes(15),
        "empty_body": b"\x17\x03\x03\x00\x00",
        "truncated_body": b"\x17\x03\x03" + (body_len - 1).to_bytes(2, "big") + record[5:-1],
    }


@pytest.mark.parametrize("suite", SUITES)
def test_every_failure_is_the_same_bad_record_mac(backend: Any, suite: int) -> None:
    record = _protector(backend, suite).seal_record(23, b"attack at dawn", 3)
    cases = {name: (_protector(backend, suite), data) for name, data in _variants(record).items()}
    cases["wrong_key"] = (_protector(backend, suite, key_byte=2), record)
    cases["wrong_sequence"] = (_protector(backend, suite, seq=1), record)
    messages = set()
    for name, (opener, data) in cases.items():
        with pytest.raises(BadRecordMac) as info:
            opener.open_records(data)
        assert type(info.value) is BadRecordMac, name
        messages.add(str(info.value))
        assert opener.sequence == (1 if name == "wrong_sequence" else 0), name
    assert messages == {MESSAGE}


def test_both_backends_agree(both_backends: tuple[Any, Any]) -> None:
    native, python = both_backends
    record = _protector(native, 0x1303).seal_record(23, b"x" * 100)
    for data in _variants(record).values():
        errors = []
        for backend in (native, python):
            with pytest.raises(BadRecordMac) as info:
                _protector(backend, 0x1303).open_records(data)
            errors.append((type(info.value), str(info.value), info.value.description))
        assert errors[0] == errors[1]


def test_connection_reports_the_same_message(backend: Any) -> None:
    from helpers_tls import ConnectionPair, client_config, server_config

    pair = ConnectionPair(client_config(backend), server_config(backend))
    pair.handshake()
    pair.client.send(b"hello")
    record = bytearray(pair.client.data_to_send())
    record[-1] ^= 1
    with pytest.raises(BadRecordMac) as info:
        pair.server.receive_data(bytes(record))
    assert str(info.value) == MESSAGE
