"""DTLS record protection, native against python: byte-identical seals, the same
opens, the same drops (hypothesis), and the replay window and sequence number
reconstruction driven across their edges.

The protectors hold state (sending sequence number, replay window), so each
example drives a native and a python protector pair through the same calls and
compares every result.  Skips without the native extension unless
FERROTLS_REQUIRE_NATIVE=1.
"""

from __future__ import annotations

from typing import Any

import pytest
from ferrotls.backend.interface import DTLS_REPLAY_WINDOW, Backend, DatagramProtector
from ferrotls.backend.python import dtls_reconstruct_sequence
from ferrotls.errors import TLSError
from ferrotls.suites import SUITES, TLS12_SUITES
from hypothesis import given
from hypothesis import strategies as st
from utils import hypothesis_settings

SETTINGS = hypothesis_settings("native", "python")
TLS13 = sorted(SUITES)
TLS12 = sorted(TLS12_SUITES)


@pytest.fixture
def backends(both_backends: tuple[Backend, Backend]) -> tuple[Backend, Backend]:
    """(native, python), skipped like conftest's ``native_backend``."""
    return both_backends


@st.composite
def dtls_args(draw: Any) -> tuple[bool, tuple[Any, ...], bytes]:
    """(dtls13, constructor arguments, connection_id)."""
    cid = draw(st.one_of(st.just(b""), st.binary(min_size=1, max_size=8)))
    if draw(st.booleans()):
        suite = draw(st.sampled_from(TLS13))
        info = SUITES[suite]
        key = draw(st.binary(min_size=info.key_len, max_size=info.key_len))
        iv = draw(st.binary(min_size=12, max_size=12))
        sn = draw(st.binary(min_size=info.key_len, max_size=info.key_len))
        epoch = draw(st.one_of(st.integers(1, 7), st.integers(0, 2**64 - 1)))
        return True, (suite, key, iv, sn, epoch), cid
    suite = draw(st.sampled_from(TLS12))
    i12 = TLS12_SUITES[suite]
    key = draw(st.binary(min_size=i12.key_len, max_size=i12.key_len))
    iv = draw(st.binary(min_size=i12.fixed_iv_len, max_size=i12.fixed_iv_len))
    epoch = draw(st.integers(1, 0xFFFF))
    return False, (suite, key, iv, epoch), cid


def make(b: Backend, dtls13: bool, args: tuple[Any, ...], cid: bytes, sequence: int = 0) -> DatagramProtector:
    if dtls13:
        suite, key, iv, sn, epoch = args
        return b.dtls13_record_protector(suite, key, iv, sn, epoch, sequence, connection_id=cid)
    suite, key, iv, epoch = args
    return b.dtls12_record_protector(suite, key, iv, epoch, sequence, connection_id=cid)


def outcome(fn: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", fn(*args)
    except (TLSError, ValueError, TypeError) as exc:
        return "err", type(exc)


# one write: (content_type, length, padding, length_field, sequence_bits)
writes = st.tuples(
    st.sampled_from([20, 21, 22, 23, 26, 0, 256]),
    st.integers(0, 80) | st.sampled_from([1 << 14, (1 << 14) + 1]),
    st.sampled_from([0, 0, 0, 1, 9]),
    st.booleans(),
    st.sampled_from([16, 16, 8, 12]),
)


@SETTINGS
@given(dtls_args(), st.lists(writes, min_size=1, max_size=8), st.integers(0, 200_000), st.data())
def test_seals_opens_and_drops_agree(backends: tuple[Backend, Backend], a: Any, ws: Any, start: int, data: Any) -> None:
    dtls13, args, cid = a
    native, python = backends
    sn, sp = make(native, dtls13, args, cid, start), make(python, dtls13, args, cid, start)
    records = []
    for content_type, n, padding, length_field, bits in ws:
        payload = bytes((i * 7 + n) & 0xFF for i in range(n))
        rn = outcome(sn.seal_record, content_type, payload, padding, length_field, bits)
        rp = outcome(sp.seal_record, content_type, payload, padding, length_field, bits)
        assert rn == rp
        assert outcome(sn.sealed_size, n, padding, length_field, bits) == outcome(sp.sealed_size, n, padding, length_field, bits)
        assert sn.sequence == sp.sequence
        if rn[0] == "ok":
            assert len(rn[1]) == sn.sealed_size(n, padding, length_field, bits)
            records.append(rn[1])
    # a datagram: the records in an order hypothesis picks, some repeated, some damaged
    picks = data.draw(st.lists(st.sampled_from(records), max_size=10)) if records else []
    datagram = bytearray(b"".join(picks))
    if datagram and data.draw(st.booleans()):
        datagram[data.draw(st.integers(0, len(datagram) - 1))] ^= 1 << data.draw(st.integers(0, 7))
    if data.draw(st.booleans()):
        datagram += data.draw(st.binary(max_size=20))
    rn_, rp_ = make(native, dtls13, args, cid), make(python, dtls13, args, cid)
    advance(native, rn_, dtls13, args, cid, start)  # the receivers expect numbers near the sender's
    advance(python, rp_, dtls13, args, cid, start)
    on = rn_.open_datagram(bytes(datagram))
    op = rp_.open_datagram(bytes(datagram))
    assert on == op
    assert rn_.next_expected == rp_.next_expected
    assert rn_.open_datagram(bytes(datagram)) == rp_.open_datagram(bytes(datagram))  # the replays


@SETTINGS
@given(dtls_args(), st.binary(min_size=16, max_size=16))
def test_record_number_masks_agree(backends: tuple[Backend, Backend], a: Any, sample: bytes) -> None:
    dtls13, args, cid = a
    native, python = backends
    assert outcome(make(native, dtls13, args, cid).record_number_mask, sample) == outcome(
        make(python, dtls13, args, cid).record_number_mask, sample
    )


def test_replay_window(backend: Backend) -> None:
    """Duplicates dropped, too old dropped, reordering within the window accepted,
    and a forged record never marks its number."""
    for dtls13 in (True, False):
        args: tuple[Any, ...] = (0x1301, bytes(16), bytes(12), bytes(16), 3) if dtls13 else (0xC02B, bytes(16), bytes(4), 1)
        s = make(backend, dtls13, args, b"")
        recs = [s.seal_record(23, i.to_bytes(2, "big")) for i in range(400)]
        r = make(backend, dtls13, args, b"")

        def seqs(*idx: int) -> tuple[list[int], tuple[int, int, int]]:
            items, consumed, dropped = r.open_datagram(b"".join(recs[i] for i in idx))
            return [i[1] for i in items], dropped

        assert seqs(10, 12, 11, 10) == ([10, 12, 11], (0, 0, 1))
        assert seqs(300) == ([300], (0, 0, 0))
        assert seqs(300 - DTLS_REPLAY_WINDOW + 1, 300 - DTLS_REPLAY_WINDOW) == ([300 - DTLS_REPLAY_WINDOW + 1], (0, 0, 1))
        forged = bytearray(recs[301])
        forged[-1] ^= 0x80
        assert r.open_datagram(bytes(forged))[2] == (0, 1, 0)
        assert seqs(301, 399, 350) == ([301, 399, 350], (0, 0, 0))
        assert r.next_expected == 400


def advance(b: Backend, receiver: DatagramProtector, dtls13: bool, args: tuple[Any, ...], cid: bytes, target: int) -> None:
    """Lead ``receiver`` to expect ``target`` the way a live connection would: one
    record every 30,000 numbers (under half the 16-bit space), each sealed by a
    sender at that number."""
    seq = receiver.next_expected
    while seq < target:
        seq = min(seq + 30_000, target - 1) if target - 1 > seq else target - 1
        items, _, dropped = receiver.open_datagram(make(b, dtls13, args, cid, seq).seal_record(22, b"lead"))
        assert [i[1] for i in items] == [seq] and dropped == (0, 0, 0)
        seq += 1


@pytest.mark.parametrize("bits", [8, 16])
def test_sequence_reconstruction_across_wraps(backend: Backend, bits: int) -> None:
    """Records numbered across 8- and 16-bit wraps, received in order with gaps
    and reordered within half the space, keep their full 48-bit numbers."""
    args = (0x1303, bytes(32), bytes(12), bytes(range(32)), 2)
    win = 1 << bits
    start = 3 * win - 40  # 40 records before the third wrap
    r = backend.dtls13_record_protector(*args)
    advance(backend, r, True, args, b"", start)
    s = backend.dtls13_record_protector(*args, start)
    recs = {start + i: s.seal_record(23, b"n", 0, True, bits) for i in range(120)}
    order = [start + i for i in range(0, 120, 3)] + [start + 1, start + 2, start + 117]
    got: list[int] = []
    for seq in order:
        items, _, dropped = r.open_datagram(recs[seq])
        assert dropped == ((0, 0, 1) if seq in got else (0, 0, 0)), seq
        got.extend(i[1] for i in items)
    assert got == order[:-1]  # start + 117 came twice: the second is a replay
    # A jump past half the space lands a window lower (an old number: a replay,
    # or a fresh one whose nonce is wrong): dropped either way.
    far = backend.dtls13_record_protector(*args, start + 120 + win // 2 + 5).seal_record(23, b"far", 0, True, bits)
    items, _, dropped = r.open_datagram(far)
    assert items == [] and dropped == ((0, 1, 0) if bits == 8 else (0, 0, 1))


@pytest.mark.parametrize(
    ("expected", "low", "bits", "want"),
    [
        (0, 0, 8, 0),
        (0xFF, 0x00, 8, 0x100),
        (0x100, 0xFF, 8, 0xFF),
        (0x180, 0x00, 8, 0x200),
        (0x17F, 0x00, 8, 0x100),
        (0x1_0000, 0xFFFE, 16, 0xFFFE),
        (0xFFF0, 0x0005, 16, 0x1_0005),
        (5, 0xFFFE, 16, 0xFFFE),
        ((1 << 48) - 1, 0x00, 8, (1 << 48) - 256),
    ],
)
def test_reconstruction_rule_table(expected: int, low: int, bits: int, want: int) -> None:
    """The python twin's rule (the Rust core has the same table in core::dtls)."""
    assert dtls_reconstruct_sequence(expected, low, bits) == want
