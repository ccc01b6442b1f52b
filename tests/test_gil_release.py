"""The native module releases the GIL for calls whose estimated work reaches
``gil_release_threshold()`` nanoseconds (docs/threads.md), and only for those."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

native = pytest.importorskip("ferrotls._native")

BIG = bytes(32 << 20)  # ~17 ms of ChaCha20-Poly1305 sealing on the CI machine class


@pytest.fixture
def threshold() -> Iterator[Any]:
    old = native.gil_release_threshold()
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.25)  # no preemptive switch within a call (<= ~20 ms): only releases
    try:
        yield native
    finally:
        native.set_gil_release_threshold(old)
        sys.setswitchinterval(old_interval)


def test_default_and_setter(threshold: Any) -> None:
    assert threshold.gil_release_threshold() == 6000
    assert threshold.set_gil_release_threshold(0) == 6000
    assert threshold.gil_release_threshold() == 0
    assert threshold.set_gil_release_threshold(2**63) == 0
    with pytest.raises(OverflowError):
        threshold.set_gil_release_threshold(-1)


def _progress_during(call: Any) -> int:
    """How far another Python thread gets while ``call()`` runs in this one."""
    counter = [0]
    stop = threading.Event()
    started = threading.Event()

    def spin() -> None:
        started.set()
        while not stop.is_set():
            counter[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    started.wait()
    try:
        before = counter[0]
        call()
        return counter[0] - before
    finally:
        stop.set()
        t.join()


def test_long_calls_release_the_gil(threshold: Any) -> None:
    w = native.RecordProtector(0x1303, bytes(32), bytes(12))
    threshold.set_gil_release_threshold(2**63)  # never release
    assert _progress_during(lambda: w.seal_record(23, BIG)) == 0
    threshold.set_gil_release_threshold(6000)  # the default: 32 MiB is far above it
    assert any(_progress_during(lambda: w.seal_record(23, BIG)) for _ in range(5))


def test_short_calls_keep_the_gil(threshold: Any) -> None:
    # 16 KiB of AES-GCM (~3 us) stays below the default threshold: no hand-off
    w = native.RecordProtector(0x1301, bytes(16), bytes(12))
    chunk = bytes(16384)
    assert _progress_during(lambda: [w.seal_record(23, chunk) for _ in range(2000)]) == 0
    threshold.set_gil_release_threshold(0)
    assert any(_progress_during(lambda: [w.seal_record(23, chunk) for _ in range(2000)]) for _ in range(5))


def test_public_setter(threshold: Any) -> None:
    from ferrotls.backend import set_gil_release_threshold

    assert set_gil_release_threshold(1234) == 6000
    assert threshold.gil_release_threshold() == 1234
    assert set_gil_release_threshold(10**30) == 1234  # clamped to "never"
    assert threshold.gil_release_threshold() == 2**64 - 1
    for bad in (-1, 1.5, True, "10"):
        with pytest.raises(ValueError):
            set_gil_release_threshold(bad)  # type: ignore[arg-type]
