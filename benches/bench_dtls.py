"""DTLS 1.3 and 1.2 in memory: ferrotls (native) beside wolfSSL, in the same run.

Groups (``--benchmark-group-by=group``):

* ``dtls13-handshake`` / ``dtls12-handshake``: a round is 10 full handshakes,
  each with new client and server objects: ECDSA P-256 server certificate,
  X25519, AES-128-GCM (TLS_AES_128_GCM_SHA256 / ECDHE-ECDSA-AES128-GCM-SHA256),
  the client verifying the chain and the host name, no tickets, and the server's
  stateless cookie exchange first, as wolfSSL always makes one (a
  HelloRetryRequest cookie in DTLS 1.3, a HelloVerifyRequest in DTLS 1.2):
  ferrotls' server side is ``CookieGate`` then ``DTLSServerConnection.from_cookie``,
  as in ``create_dtls_endpoint``;
* ``dtls13-datagram64`` / ``dtls12-datagram64``: one connection; a round is 1,000
  64-byte application datagrams client -> server (send, seal, datagram, open,
  the ApplicationData event).

wolfSSL runs as ``benches/dtls_c/wolfssl_dtls.c``, compiled against the wolfSSL
that ``tools/wolfssl_peer.sh --bench`` builds (assembly AES-GCM and curves, no
key-log export), in memory too: its client and server in one thread, datagrams
through queues set as its I/O callbacks.  The process stays up; a round is one
command on a pipe (a few microseconds of a 10-handshake round).  Each round's
bytes and datagrams per handshake go to ``extra_info``; the last test prints
ferrotls/wolfSSL ratios of the medians.

    .venv/bin/pytest benches/bench_dtls.py --benchmark-enable
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ferrotls.config import CertifiedKey, ClientConfig, ServerConfig
from ferrotls.dtls import DTLSClientConnection, DTLSConfig, DTLSServerConnection
from ferrotls.dtls.config import DTLS_1_2, DTLS_1_3
from ferrotls.dtls.cookie import CookieGate
from ferrotls.events import ApplicationData
from ferrotls.suites import CipherSuite, NamedGroup, Tls12CipherSuite
from ferrotls.x509 import DefaultVerifier, TrustStore
from peers import HOST, make_pki

ROOT = Path(__file__).resolve().parent.parent
HANDSHAKES_PER_ROUND = 10
DATAGRAMS_PER_ROUND = 1000
VERSIONS = {"13": DTLS_1_3, "12": DTLS_1_2}
IMPLS = ["ferrotls-native", "wolfssl"]
_MEDIANS: dict[tuple[str, str], float] = {}
"""(group, impl) -> median seconds per round, for the ratio summary."""


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    ca, leaf = make_pki()
    d = tmp_path_factory.mktemp("dtls-bench-pki")
    (d / "ca.pem").write_bytes(ca.cert_pem.bytes())
    (d / "chain.pem").write_bytes(b"".join(p.bytes() for p in leaf.cert_chain_pems))
    (d / "key.pem").write_bytes(leaf.private_key_pem.bytes())
    return {"ca": ca, "leaf": leaf, "dir": d}


# ----------------------------------------------------------------------------- ferrotls


class FerroDtls:
    """ferrotls' client and server for one DTLS version (native backend)."""

    def __init__(self, pki: dict[str, Any], version: int) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        leaf, ca = pki["leaf"], pki["ca"]
        chain = [x509.load_pem_x509_certificate(p.bytes()) for p in leaf.cert_chain_pems]
        key = load_pem_private_key(leaf.private_key_pem.bytes(), None)
        groups = {"groups": (NamedGroup.X25519, NamedGroup.SECP256R1)}
        self.client = ClientConfig(
            backend="native", verifier=DefaultVerifier(TrustStore.from_pem(cadata=ca.cert_pem.bytes())),
            cipher_suites=(CipherSuite.TLS_AES_128_GCM_SHA256,), key_share_groups=(NamedGroup.X25519,),
            tls12_cipher_suites=(Tls12CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,), **groups)
        self.server = ServerConfig(
            backend="native", certificates=(CertifiedKey(chain, key),), ticket_count=0,
            cipher_suites=(CipherSuite.TLS_AES_128_GCM_SHA256,),
            tls12_cipher_suites=(Tls12CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,), **groups)
        self.dtls = DTLSConfig(versions=(version,))
        self.gate = CookieGate(self.server, self.dtls, secret=bytes(32))
        self.expected = "DTLSv1.3" if version == DTLS_1_3 else "DTLSv1.2"
        self.wire = (0, 0, 0)

    def handshake(self) -> tuple[DTLSClientConnection, DTLSServerConnection]:
        c = DTLSClientConnection(self.client, HOST, dtls=self.dtls)
        gate, peer = self.gate, b"127.0.0.1:5684"
        c2s = s2c = datagrams = 0
        (hello1,) = c.datagrams_to_send()
        reply = gate.handle(hello1, peer, 0.0).reply
        c2s, s2c, datagrams = len(hello1), sum(map(len, reply)), 1 + len(reply)
        for d in reply:
            c.receive_datagram(d, 0.0)
        (hello2,) = c.datagrams_to_send()
        state = gate.handle(hello2, peer, 0.0).state
        assert state is not None
        s = DTLSServerConnection.from_cookie(self.server, state, dtls=self.dtls)
        s.receive_datagram(hello2, 0.0)
        c2s += len(hello2)
        datagrams += 1
        for _ in range(10):
            back = s.datagrams_to_send()
            for d in back:
                c.receive_datagram(d, 0.0)
            out = c.datagrams_to_send()
            for d in out:
                s.receive_datagram(d, 0.0)
            s2c += sum(map(len, back))
            c2s += sum(map(len, out))
            datagrams += len(back) + len(out)
            if not back and not out:
                break
        assert c.version == s.version == self.expected
        self.wire = (c2s, s2c, datagrams)
        c.events()
        s.events()
        return c, s


def _ferro_datagrams(c: DTLSClientConnection, s: DTLSServerConnection, msg: bytes) -> None:
    for _ in range(DATAGRAMS_PER_ROUND):
        c.send(msg)
        for d in c.datagrams_to_send():
            s.receive_datagram(d, 0.0)
        event = s.next_event()
        assert isinstance(event, ApplicationData)


# ----------------------------------------------------------------------------- wolfSSL


def _wolfssl_driver() -> Path:
    """The compiled driver (building wolfSSL with tools/wolfssl_peer.sh --bench first)."""
    proc = subprocess.run(["bash", str(ROOT / "tools" / "wolfssl_peer.sh"), "--bench"], capture_output=True,
                          text=True, timeout=1800)
    if proc.returncode != 0:
        pytest.skip(f"wolfSSL build failed: {proc.stderr[-500:]}")
    wolf = Path(proc.stdout.strip().splitlines()[-1])
    src = ROOT / "benches" / "dtls_c" / "wolfssl_dtls.c"
    exe = wolf.parent / "wolfssl_dtls"
    if not exe.exists() or exe.stat().st_mtime < src.stat().st_mtime:
        subprocess.run(["cc", "-O2", "-Wall", f"-I{wolf}", "-o", str(exe), str(src),
                        str(wolf / "src" / ".libs" / "libwolfssl.a"), "-lm", "-lpthread"], check=True)
    return exe


class WolfDtls:
    """The wolfSSL driver process for one DTLS version."""

    def __init__(self, exe: Path, pki: dict[str, Any], version: str) -> None:
        d = pki["dir"]
        self.proc = subprocess.Popen(
            [str(exe), version, str(d / "chain.pem"), str(d / "key.pem"), str(d / "ca.pem"), HOST],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=d)
        self.internal_ns: list[float] = []
        self.wire = (0, 0, 0)

    def run(self, command: str, n: int) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{command} {n}\n")
        self.proc.stdin.flush()
        fields = self.proc.stdout.readline().split()
        if not fields:
            raise RuntimeError(f"the wolfSSL driver exited ({self.proc.wait()})")
        self.internal_ns.append(float(fields[1]))
        if command == "H":
            self.wire = (int(fields[3]), int(fields[5]), int(fields[7]))

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.write("Q\n")
            self.proc.stdin.close()
        self.proc.wait(10)


@pytest.fixture(scope="module")
def wolf_exe() -> Path:
    if os.environ.get("FERROTLS_BENCH_NO_WOLFSSL"):
        pytest.skip("FERROTLS_BENCH_NO_WOLFSSL is set")
    return _wolfssl_driver()


# ----------------------------------------------------------------------------- benches


def _record(benchmark: Any, group: str, impl: str, wire: tuple[int, int, int] | None = None) -> None:
    if wire is not None:
        benchmark.extra_info.update(c2s=wire[0], s2c=wire[1], datagrams=wire[2])
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        _MEDIANS[(group, impl)] = stats.stats.median


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("version", list(VERSIONS))
def test_dtls_handshake(benchmark: Any, request: pytest.FixtureRequest, pki: dict[str, Any], version: str,
                        impl: str) -> None:
    group = f"dtls{version}-handshake"
    benchmark.group = group
    benchmark.extra_info["handshakes_per_round"] = HANDSHAKES_PER_ROUND
    if impl == "wolfssl":
        wolf = WolfDtls(request.getfixturevalue("wolf_exe"), pki, version)
        try:
            wolf.run("H", 1)  # (warm-up, and the wire counts)
            benchmark(wolf.run, "H", HANDSHAKES_PER_ROUND)
        finally:
            wolf.close()
        benchmark.extra_info["internal_median_ns"] = sorted(wolf.internal_ns)[len(wolf.internal_ns) // 2]
        _record(benchmark, group, impl, wolf.wire)
        return
    ferro = FerroDtls(pki, VERSIONS[version])
    ferro.handshake()

    def round_() -> None:
        for _ in range(HANDSHAKES_PER_ROUND):
            ferro.handshake()

    benchmark(round_)
    _record(benchmark, group, impl, ferro.wire)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("version", list(VERSIONS))
def test_dtls_datagram64(benchmark: Any, request: pytest.FixtureRequest, pki: dict[str, Any], version: str,
                         impl: str) -> None:
    group = f"dtls{version}-datagram64"
    benchmark.group = group
    benchmark.extra_info["datagrams_per_round"] = DATAGRAMS_PER_ROUND
    if impl == "wolfssl":
        wolf = WolfDtls(request.getfixturevalue("wolf_exe"), pki, version)
        try:
            wolf.run("D", 10)
            benchmark(wolf.run, "D", DATAGRAMS_PER_ROUND)
        finally:
            wolf.close()
        _record(benchmark, group, impl)
        return
    c, s = FerroDtls(pki, VERSIONS[version]).handshake()
    msg = bytes(64)
    benchmark(_ferro_datagrams, c, s, msg)
    _record(benchmark, group, impl)


def test_dtls_ratio_summary() -> None:
    """Print ferrotls / wolfSSL per group (rates: handshakes/s, datagrams/s)."""
    if not _MEDIANS:
        pytest.skip("benchmarks disabled (--benchmark-enable) or not run")
    lines = ["", "DTLS in memory, medians (one thread): ferrotls-native vs wolfSSL"]
    for group in sorted({g for g, _ in _MEDIANS}):
        per = HANDSHAKES_PER_ROUND if "handshake" in group else DATAGRAMS_PER_ROUND
        unit = "handshakes/s" if "handshake" in group else "datagrams/s"
        rates = {impl: per / t for (g, impl), t in _MEDIANS.items() if g == group}
        text = ", ".join(f"{impl} {rate:,.0f} {unit}" for impl, rate in sorted(rates.items()))
        if "ferrotls-native" in rates and "wolfssl" in rates:
            text += f"; ratio ferrotls/wolfSSL {rates['ferrotls-native'] / rates['wolfssl']:.2f}"
        lines.append(f"  {group}: {text}")
    print("\n".join(lines))
