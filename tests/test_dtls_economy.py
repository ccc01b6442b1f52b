"""The DTLS economy table of ``ferrotls bench --modes`` (apps/bench/dtls_economy.py):
rows for DTLS 1.3 and DTLS 1.2 (full, PSK, resumed) beside TLS 1.3 over TCP, with
the lossy relay's time to complete for every DTLS row."""

from __future__ import annotations

import pytest

from ferrotls.apps.bench.dtls_economy import print_dtls_economy, run_dtls_economy


def test_economy_rows_for_both_dtls_versions(capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_dtls_economy("native", lossy_runs=4)
    by = {(r.protocol, r.mode): r for r in rows}
    modes = ("full ECDSA P-256", "external PSK", "resumed")
    assert set(by) == {(p, m) for p in ("DTLS 1.3", "DTLS 1.2") for m in modes} | {
        ("TLS 1.3/TCP", "full ECDSA P-256"), ("TLS 1.3/TCP", "external PSK")}
    for protocol in ("DTLS 1.3", "DTLS 1.2"):
        full, psk, resumed = (by[(protocol, m)] for m in modes)
        assert psk.s2c < full.s2c / 2 and resumed.s2c < full.s2c / 2  # no certificate
        for r in (full, psk, resumed):
            assert r.completed == 4 and r.median is not None and r.p95 is not None and r.median <= r.p95
            assert r.client_hello <= 1200
    # RFC 6347: a full DTLS 1.2 handshake has four flights (no cookie), a resumed one three;
    # DTLS 1.3 needs three either way
    assert (by[("DTLS 1.2", "full ECDSA P-256")].flights, by[("DTLS 1.2", "resumed")].flights) == (4, 3)
    assert by[("DTLS 1.3", "full ECDSA P-256")].flights == 3
    # DTLS 1.3's ClientHello carries a key share, DTLS 1.2's only its offer
    assert by[("DTLS 1.2", "full ECDSA P-256")].client_hello < by[("DTLS 1.3", "full ECDSA P-256")].client_hello
    assert all(r.median is None for r in rows if r.protocol == "TLS 1.3/TCP")
    print_dtls_economy(rows)
    out = capsys.readouterr().out
    assert out.count("DTLS 1.2 ") >= 3 and "PSK-AES128-CCM8" in out
