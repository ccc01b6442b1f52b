"""``ferrotls bench --modes``: every mode completes and the byte counts are consistent."""

from __future__ import annotations

from typing import Any

import pytest

from ferrotls.apps.bench.modes import print_mode_table, run_mode_bench


def test_mode_table(native_backend: Any, capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_mode_bench(quick=True, backends=["native"])
    by_mode = {(r.impl, r.mode): r for r in rows}
    full = by_mode[("ferrotls-native", "full ECDSA P-256")]
    psk_ke = by_mode[("ferrotls-native", "PSK-only psk_ke")]
    resumed = by_mode[("ferrotls-native", "resumed (psk_dhe_ke)")]
    hrr = by_mode[("ferrotls-native", "HRR (X25519 share, P-256 server)")]
    # No certificate, no key share: the PSK-only handshake is the smallest.
    assert psk_ke.c2s + psk_ke.s2c < resumed.c2s + resumed.s2c < full.c2s + full.s2c
    assert psk_ke.c2s + psk_ke.s2c <= 450
    assert hrr.round_trips == 2 and full.round_trips == 1
    # The ssl module sits beside the modes it can do from Python.
    assert ("ssl", "full ECDSA P-256") in by_mode and ("ssl", "resumed (psk_dhe_ke)") in by_mode
    assert all(r.rate > 0 for r in rows)
    print_mode_table(rows)
    out = capsys.readouterr().out
    assert "PSK-only psk_ke" in out and "ferrotls-native" in out
