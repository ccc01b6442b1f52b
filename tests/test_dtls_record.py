"""DatagramRecordLayer: epochs, plaintext records, MTU packing, out-of-order
epochs and drop counts, on both backends."""

from __future__ import annotations

import pytest
from ferrotls.backend.interface import Backend, DatagramProtector
from ferrotls.dtls_record import (
    DTLS_1_2,
    DTLS_1_3,
    DatagramRecordLayer,
    DtlsRecord,
    dtls13_protector,
    dtls13_record_keys,
    expand_label,
)
from ferrotls.errors import UsageError

SUITE = 0x1301
SECRETS = {epoch: bytes([epoch]) * 32 for epoch in range(1, 9)}


def pair(backend: Backend, epoch: int, cid: bytes = b"") -> tuple[DatagramProtector, DatagramProtector]:
    """A (write, read) protector pair for ``epoch``."""
    return (
        dtls13_protector(backend, SUITE, SECRETS[epoch], epoch, cid),
        dtls13_protector(backend, SUITE, SECRETS[epoch], epoch, cid),
    )


def test_dtls13_labels(backend: Backend) -> None:
    """HKDF-Expand-Label with the "dtls13" prefix, computed by hand with hmac."""
    import hashlib
    import hmac

    secret = bytes(range(32))
    info = (16).to_bytes(2, "big") + bytes((8,)) + b"dtls13sn" + b"\x00"
    want = hmac.new(secret, info + b"\x01", hashlib.sha256).digest()[:16]
    assert expand_label(backend, "sha256", secret, b"sn", b"", 16) == want
    key, iv, sn = dtls13_record_keys(backend, SUITE, secret)
    assert (len(key), len(iv), sn) == (16, 12, want)


def test_round_trip_across_epochs(backend: Backend) -> None:
    tx, rx = DatagramRecordLayer(), DatagramRecordLayer()
    tx.write(22, b"client hello")
    w2, r2 = pair(backend, 2)
    w3, r3 = pair(backend, 3)
    tx.install_write_protector(w2)
    tx.write(22, b"finished")
    tx.install_write_protector(w3)
    tx.write_application_data(b"one")
    tx.write_application_data(b"two")
    datagrams = tx.datagrams_to_send()
    assert len(datagrams) == 1, "small records share a datagram"
    rx.install_read_protector(r2)
    rx.install_read_protector(r3)
    rx.feed(datagrams[0])
    assert rx.read_dtls_records() == [
        DtlsRecord(0, 0, 22, b"client hello"),
        DtlsRecord(2, 0, 22, b"finished"),
        DtlsRecord(3, 0, 23, b"one"),
        DtlsRecord(3, 1, 23, b"two"),
    ]
    assert rx.dropped.total == 0
    rx.feed(datagrams[0])  # a duplicated datagram: every record a replay
    assert rx.read_records() == []
    assert (rx.dropped.replayed, rx.dropped_in(3).replayed, rx.dropped_in(0).replayed) == (4, 2, 1)


def test_mtu_packing(backend: Backend) -> None:
    tx = DatagramRecordLayer(mtu=200)
    w, r = pair(backend, 3)
    tx.install_write_protector(w)
    room = tx.max_payload()
    assert room == 200 - (1 + 2 + 2) - 1 - 16
    for n in (10, 50, 100, room, 1, room):
        tx.write_application_data(bytes([n % 256]) * n)
    with pytest.raises(UsageError):
        tx.write_application_data(b"x" * (room + 1))
    datagrams = tx.datagrams_to_send()
    assert all(len(d) <= 200 for d in datagrams)
    assert [len(d) for d in datagrams] == [32 + 72, 122, 200, 23, 200]  # 22 bytes of overhead each
    rx = DatagramRecordLayer(mtu=200)
    rx.install_read_protector(r)
    lens = []
    for d in datagrams:
        rx.feed(d)
        lens.append([len(p) for _, p in rx.read_records()])
    assert sum(lens, []) == [10, 50, 100, room, 1, room]
    assert all(sum(x + 22 for x in ls) <= 200 for ls in lens)
    plain = DatagramRecordLayer(mtu=100)
    assert plain.max_payload() == 87
    plain.write(22, b"h" * 87)
    with pytest.raises(UsageError):
        plain.write(22, b"h" * 88)


def test_out_of_order_epochs_are_kept(backend: Backend) -> None:
    tx, rx = DatagramRecordLayer(), DatagramRecordLayer(max_stashed=3)
    w2, r2 = pair(backend, 2)
    w3, r3 = pair(backend, 3)
    tx.install_write_protector(w2)
    tx.write(22, b"finished")
    tx.install_write_protector(w3)
    for i in range(3):
        tx.write_application_data(b"early %d" % i)
        tx.flush()
    for d in tx.datagrams_to_send():
        rx.feed(d)
    assert rx.read_dtls_records() == []
    assert rx.dropped.no_keys == 1 and rx.buffered > 0  # three kept, one too many
    rx.install_read_protector(r2)
    assert [r.payload for r in rx.read_dtls_records()] == [b"finished"]
    rx.install_read_protector(r3)
    assert [r.payload for r in rx.read_dtls_records()] == [b"early 0", b"early 1"]
    assert rx.buffered == 0


def test_drops_are_counted_never_raised(backend: Backend) -> None:
    tx, rx = DatagramRecordLayer(), DatagramRecordLayer()
    w, r = pair(backend, 3, b"\x07\x07")
    tx.install_write_protector(w)
    tx.write_application_data(b"payload")
    (d,) = tx.datagrams_to_send()
    rx.install_read_protector(r)
    bad = bytearray(d)
    bad[-1] ^= 1
    for junk in (bytes(bad), b"", b"\x00", b"\x16\xfe\xfd", bytes(40), b"\x3f" * 30, b"\x17\xfe\xfd" + bytes(10)):
        rx.feed(junk)
    assert rx.read_records() == []
    assert rx.dropped.unauthentic == 1 and rx.dropped.total >= 6
    rx.feed(d)
    assert rx.read_application_data() == (b"payload", False)


def test_dtls13_epoch_bits_replace_older_epoch(backend: Backend) -> None:
    rx = DatagramRecordLayer()
    _, r3 = pair(backend, 3)
    w7, r7 = pair(backend, 7)
    rx.install_read_protector(r3)
    rx.install_read_protector(r7)
    assert rx.read_epochs == [7]
    tx = DatagramRecordLayer()
    tx.install_write_protector(w7)
    tx.write_application_data(b"after key update")
    rx.feed(tx.take_output())
    assert rx.read_dtls_records() == [DtlsRecord(7, 0, 23, b"after key update")]
    rx.retire_read_epoch(7)
    assert rx.read_protector is None


def test_dtls12_epochs_and_ccs(backend: Backend) -> None:
    key, iv = bytes(range(16)), bytes(4)
    tx, rx = DatagramRecordLayer(DTLS_1_2), DatagramRecordLayer(DTLS_1_2)
    tx.write(22, b"finished-ish")
    tx.write_change_cipher_spec()
    tx.install_write_protector(backend.dtls12_record_protector(0xC0AE, key, iv, 1, connection_id=b"ab"))
    tx.write(22, b"finished")
    tx.write_application_data(b"data")
    rx.install_read_protector(backend.dtls12_record_protector(0xC0AE, key, iv, 1, connection_id=b"ab"))
    rx.connection_id = b"ab"
    rx.feed(tx.take_output())
    assert rx.read_dtls_records() == [
        DtlsRecord(0, 0, 22, b"finished-ish"),
        DtlsRecord(0, 1, 20, b"\x01"),
        DtlsRecord(1, 0, 22, b"finished"),
        DtlsRecord(1, 1, 23, b"data"),
    ]
    # DTLS 1.3 has no CCS; DTLS 1.2 refuses DTLS 1.3 headers as plaintext garbage
    quiet = DatagramRecordLayer(DTLS_1_3)
    quiet.write_change_cipher_spec()
    assert quiet.datagrams_to_send() == []
    with pytest.raises(ValueError):
        DatagramRecordLayer(0x0303)


def test_omit_last_length(backend: Backend) -> None:
    """DTLS 1.3: the last record of each datagram without its length, 2 bytes saved."""
    sizes = []
    for omit in (False, True):
        tx = DatagramRecordLayer(mtu=120)
        w, _ = pair(backend, 3)
        tx.install_write_protector(w)
        tx.omit_last_length = omit
        tx.write(22, b"plain? no: sealed")
        for n in (30, 30, 30, 5):
            tx.write_application_data(bytes([n]) * n)
        # two datagrams closed already (2 bytes shorter each when omitting); the
        # open one is counted with its lengths
        assert tx.pending_output() == 17 + 22 + 3 * (30 + 22) + 5 + 22 - (4 if omit else 0)
        datagrams = tx.datagrams_to_send()
        sizes.append([len(d) for d in datagrams])
        _, r = pair(backend, 3)
        rx = DatagramRecordLayer()
        rx.install_read_protector(r)
        for d in datagrams:
            assert d[0] & 0x04 or omit  # L set unless omitted
            rx.feed(d)
        assert [len(p) for _, p in rx.read_records()] == [17, 30, 30, 30, 5]
        assert rx.dropped.total == 0
    assert sizes[1] == [n - 2 for n in sizes[0]]
    # the last record of each datagram has no L bit, the others do
    tx = DatagramRecordLayer()
    w, _ = pair(backend, 3)
    tx.install_write_protector(w)
    tx.omit_last_length = True
    tx.write_application_data(b"a")
    tx.write_application_data(b"b")
    (d,) = tx.datagrams_to_send()
    first_len = int.from_bytes(d[3:5], "big")
    second = d[5 + first_len :]
    assert d[0] & 0x04 and not second[0] & 0x04
    limited = DatagramRecordLayer()
    limited.omit_last_length = True
    limited.install_write_protector(backend.dtls13_record_protector(SUITE, bytes(16), bytes(12), bytes(16), 3, data_limit=1))
    limited.write_application_data(b"one")
    from ferrotls.errors import KeyLimitReached

    with pytest.raises(KeyLimitReached):
        limited.write_application_data(b"two")  # raised at write time, not at flush
    assert len(limited.datagrams_to_send()) == 1
