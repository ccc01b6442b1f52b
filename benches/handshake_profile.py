"""Where the time of a full ferrotls handshake goes, per backend (cProfile).

    .venv/bin/python benches/handshake_profile.py                 # python (+ native if built)
    .venv/bin/python benches/handshake_profile.py -n 200 --backend native --defaults
    .venv/bin/python benches/handshake_profile.py --pyinstrument  # if pyinstrument is installed

Runs N full in-memory handshakes (the ``FerroPair`` of bench_handshake.py: client
verification on, ECDSA P-256 trustme chain, TLS_AES_256_GCM_SHA384, X25519 only
unless ``--defaults``) under cProfile and prints, per backend (``native``,
``python``, and ``pyca-standin``: the python backend with pyca/cryptography's AEAD
and X25519, an estimate of the native backend's Python-side cost while the
extension is not built):

1. wall and CPU time per handshake without the profiler (the profiler's overhead
   inflates pure-Python code much more than native calls, so the shares below
   are scaled to the unprofiled CPU time, and are only a guide);
2. a breakdown by ferrotls area (key exchange, CertificateVerify signing and
   verification, X.509 chain verification, key schedule, transcript hash,
   record protector construction, record seal/open, record framing, message
   codec, connection/handshake logic), in microseconds per handshake;
3. the top functions by cumulative and by own (total) time.

Attribution: a ferrotls function belongs to the area of its module (a few
backend methods are classified by name, e.g. ``PyRecordProtector.__init__`` is
"record protector construction").  Time spent in code outside ferrotls
(cryptography, hashlib, hmac, the pure-Python primitives in backend/pure, C
builtins) is charged to the ferrotls caller that made the call, split exactly by
caller with cProfile's per-caller own times and recursively through
intermediate non-ferrotls frames by cumulative time.
"""

from __future__ import annotations

import argparse
import ast
import cProfile
import functools
import os
import pstats
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ferrotls
from bench_handshake import FerroPair
from ferrotls.backend import available_backends
from peers import make_pki

PKG = Path(ferrotls.__file__).resolve().parent

AREAS = [
    "key exchange (kx)",
    "sign: CertificateVerify",
    "x509 chain verification",
    "key schedule (HKDF)",
    "transcript hash",
    "record protector construction",
    "record seal/open",
    "record framing (record.py)",
    "codec encode/decode",
    "connection/handshake logic",
    "bench driver / other",
]

# (module path relative to the package, qualname regex) -> area; first match wins.
_BACKEND_RULES = [
    (r"(Py)?X25519|x25519|(Py)?MlKem|mlkem", "key exchange (kx)"),
    (r"hkdf|derive_secret", "key schedule (HKDF)"),
    (r"RecordProtector\.__init__|\.record_protector$|_suite_and_key", "record protector construction"),
    (r"RecordProtector|Aead|aead", "record seal/open"),
]
_MODULE_AREAS = {
    "kx.py": "key exchange (kx)",
    "sign.py": "sign: CertificateVerify",
    "x509.py": "x509 chain verification",
    "keyschedule.py": "key schedule (HKDF)",
    "transcript.py": "transcript hash",
    "record.py": "record framing (record.py)",
}


@functools.cache
def _qualnames(path: str) -> list[tuple[int, int, str]]:
    """(first line, last line, qualname) of every function in a source file."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return []
    out: list[tuple[int, int, str]] = []

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    out.append((child.lineno, child.end_lineno or child.lineno, name))
                walk(child, name + ".")

    walk(tree, "")
    return out


def qualname(path: str, line: int, name: str) -> str:
    best = name
    for first, last, q in _qualnames(path):
        if first <= line <= last:
            best = q  # innermost wins: later entries are nested deeper
    return best


def area_of(func: tuple[str, int, str]) -> str | None:
    """The ferrotls area of a profiled function, or None if it is not ferrotls code."""
    path, line, name = func
    try:
        rel = Path(path).resolve().relative_to(PKG).as_posix()
    except (ValueError, OSError):
        return None
    if rel.startswith("backend/pure/"):
        return None  # primitives: charged to whoever called them
    q = qualname(path, line, name)
    if rel in ("backend/python.py", "backend/native.py"):
        for pattern, area in _BACKEND_RULES:
            if re.search(pattern, q):
                return area
        return None
    if rel in _MODULE_AREAS:
        return _MODULE_AREAS[rel]
    if rel == "config.py" and q.startswith("CertifiedKey.") and q.split(".")[-1] in ("sign", "schemes"):
        return "sign: CertificateVerify"
    if rel.startswith("messages/"):
        return "codec encode/decode"
    return "connection/handshake logic"


def attribute(stats: pstats.Stats) -> dict[str, float]:
    """Own time of every function charged to a ferrotls area (seconds, profiled)."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    dist_cache: dict[Any, dict[str, float]] = {}

    def dist(func: Any, depth: int = 0) -> dict[str, float]:
        """Share of each area in the calls made *by* ``func``."""
        if func in dist_cache:
            return dist_cache[func]
        area = area_of(func) if func in raw else None
        if area is not None:
            d = {area: 1.0}
        elif func not in raw or depth > 60:
            d = {"bench driver / other": 1.0}
        else:
            dist_cache[func] = {"bench driver / other": 1.0}  # cycle guard
            callers = raw[func][4]
            total = sum(v[3] for v in callers.values()) or 0.0
            d = defaultdict(float)
            if not callers or total <= 0:
                d["bench driver / other"] = 1.0
            else:
                for caller, v in callers.items():
                    for a, share in dist(caller, depth + 1).items():
                        d[a] += share * v[3] / total
            d = dict(d)
        dist_cache[func] = d
        return d

    out: dict[str, float] = defaultdict(float)
    for func, (_cc, _nc, tt, _ct, callers) in raw.items():
        area = area_of(func)
        if area is not None:
            out[area] += tt
            continue
        if not callers:
            out["bench driver / other"] += tt
            continue
        for caller, v in callers.items():
            for a, share in dist(caller).items():
                out[a] += v[2] * share
    return dict(out)


class _PycaAead:
    """pure/gcm.AESGCM's seal/open signature over pyca/cryptography (stand-in only)."""

    __slots__ = ("_aead", "_invalid")

    def __init__(self, suite: int, key: bytes) -> None:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

        self._aead = ChaCha20Poly1305(key) if suite == 0x1303 else AESGCM(key)
        self._invalid = InvalidTag

    def seal(self, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
        out: bytes = self._aead.encrypt(nonce, plaintext, aad)
        return out

    def open(self, nonce: bytes, aad: bytes, data: bytes) -> bytes | None:
        try:
            out: bytes = self._aead.decrypt(nonce, data, aad)
            return out
        except self._invalid:
            return None


def pyca_standin_backend() -> Any:
    """The python backend with its AEAD and X25519 swapped for pyca/cryptography.

    Not a ferrotls backend: a stand-in for what the native backend's crypto costs
    (compiled AEAD, X25519; HKDF already runs through stdlib hmac in the python
    backend), so that the Python-side cost of a handshake can be measured while the
    native module is not built.  Record framing and nonce logic stay the python
    backend's.
    """
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from ferrotls.backend.python import PyRecordProtector, PythonBackend

    class _Key:
        __slots__ = ("_k",)

        def __init__(self, k: Any) -> None:
            self._k = k

        def public_bytes(self) -> bytes:
            out: bytes = self._k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            return out

        def exchange(self, peer: bytes) -> bytes:
            out: bytes = self._k.exchange(X25519PublicKey.from_public_bytes(bytes(peer)))
            return out

    class PycaStandin(PythonBackend):
        __slots__ = ()

        @property
        def name(self) -> str:
            return "pyca-standin"

        def record_protector(self, suite: int, key: Any, iv: Any, sequence: int = 0,
                             data_limit: int | None = None) -> Any:
            p = PyRecordProtector(suite, key, iv, sequence, data_limit)  # framing, nonce, limits
            p._impl = _PycaAead(p.suite, bytes(key))  # the one reach inside: swap the AEAD primitive
            return p

        def x25519_generate(self) -> Any:
            return _Key(X25519PrivateKey.generate())

        def x25519_from_bytes(self, private: Any) -> Any:
            return _Key(X25519PrivateKey.from_private_bytes(bytes(private)))

    return PycaStandin()


def time_handshakes(pair: FerroPair, n: int) -> tuple[float, float]:
    """(wall, cpu) seconds per handshake, best of 3 runs of n handshakes."""
    walls, cpus = [], []
    for _ in range(3):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            pair.handshake()
        walls.append((time.perf_counter() - w0) / n)
        cpus.append((time.process_time() - c0) / n)
    return min(walls), min(cpus)


def _fmt_func(func: tuple[str, int, str]) -> str:
    path, line, name = func
    if path == "~":
        return name
    try:
        rel = "ferrotls/" + Path(path).resolve().relative_to(PKG).as_posix()
        return f"{rel}:{qualname(path, line, name)}"
    except ValueError:
        parts = Path(path).parts
        short = "/".join(parts[-2:])
        return f"{short}:{line}({name})"


def top_table(stats: pstats.Stats, key: int, n_hs: int, limit: int, scale: float) -> list[str]:
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    rows = sorted(raw.items(), key=lambda kv: kv[1][key], reverse=True)[:limit]
    lines = ["| function | calls/hs | own µs/hs | cum µs/hs |", "|---|---:|---:|---:|"]
    for func, (_cc, nc, tt, ct, _callers) in rows:
        lines.append(
            f"| `{_fmt_func(func)}` | {nc / n_hs:.1f} | {tt / n_hs * 1e6 * scale:,.0f} "
            f"| {ct / n_hs * 1e6 * scale:,.0f} |"
        )
    return lines


def profile_backend(name: str, n: int, defaults: bool, limit: int, use_pyinstrument: bool) -> str:
    ca, leaf = make_pki()
    pair = FerroPair(ca, leaf, pyca_standin_backend() if name == "pyca-standin" else name, defaults=defaults)
    info = pair.check()
    for _ in range(3):  # warm caches (imports, lru_caches) outside the measurement
        pair.handshake()
    wall, cpu = time_handshakes(pair, n)

    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        pair.handshake()
    prof.disable()
    stats = pstats.Stats(prof)
    profiled_total = stats.total_tt  # type: ignore[attr-defined]
    scale = (cpu * n) / profiled_total if profiled_total else 1.0
    by_area = attribute(stats)

    kx = "X25519MLKEM768 + X25519 offered" if defaults else "X25519 only"
    lines = [
        f"## backend {name} ({kx}; negotiated {info['group']}; {n} handshakes)",
        "",
        f"Unprofiled: {wall * 1e6:,.0f} µs wall, {cpu * 1e6:,.0f} µs CPU per handshake "
        f"({1 / wall:,.1f} hs/s wall, {1 / cpu:,.1f} hs/s CPU); wire c->s {info['wire'].c2s} B, "
        f"s->c {info['wire'].s2c} B.",
        f"Profiled: {profiled_total / n * 1e6:,.0f} µs per handshake (overhead x{1 / scale:.2f}); "
        "µs below are scaled by the ratio to the unprofiled CPU time.",
        "",
        "| area | µs/hs (scaled) | share |",
        "|---|---:|---:|",
    ]
    for area in sorted(AREAS, key=lambda a: -by_area.get(a, 0.0)):
        t = by_area.get(area, 0.0)
        lines.append(
            f"| {area} | {t / n * 1e6 * scale:,.0f} | {100 * t / profiled_total:.1f} % |"
        )
    lines.append(
        f"| **total** | **{profiled_total / n * 1e6 * scale:,.0f}** | "
        f"{100 * sum(by_area.values()) / profiled_total:.1f} % |"
    )
    lines += ["", f"Top {limit} by cumulative time:", ""]
    lines += top_table(stats, 3, n, limit, scale)
    lines += ["", f"Top {limit} by own (total) time:", ""]
    lines += top_table(stats, 2, n, limit, scale)

    if use_pyinstrument:
        try:
            import pyinstrument
        except ImportError:
            lines += ["", "(pyinstrument is not installed: skipped)"]
        else:
            p = pyinstrument.Profiler(interval=0.0002)
            p.start()
            for _ in range(n):
                pair.handshake()
            p.stop()
            lines += ["", "```", p.output_text(unicode=False, color=False), "```"]
    return "\n".join(lines)


def _per_call(fn: Any, target: float = 0.2) -> float:
    """Unprofiled CPU seconds per call of ``fn()`` (best of 3 calibrated runs)."""
    n = 1
    while True:
        c0 = time.process_time()
        for _ in range(n):
            fn()
        dt = time.process_time() - c0
        if dt > target / 10:
            break
        n *= 4
    n = max(1, int(n * target / max(dt, 1e-9)))
    best = float("inf")
    for _ in range(3):
        c0 = time.process_time()
        for _ in range(n):
            fn()
        best = min(best, (time.process_time() - c0) / n)
    return best


def micro(name: str) -> str:
    """Unprofiled costs of the pieces of one handshake (CPU µs), without profiler bias.

    The codec row re-encodes and re-decodes the very messages of one handshake,
    captured by wrapping ``encode_handshake``/``decode_handshake``.
    """
    import datetime

    from ferrotls.handshake import common
    from ferrotls.keyschedule import traffic_keys
    from ferrotls.sign import certificate_verify_message, verify
    from ferrotls.suites import CipherSuite, suite_info

    ca, leaf = make_pki()
    backend_obj = pyca_standin_backend() if name == "pyca-standin" else name
    pair = FerroPair(ca, leaf, backend_obj)
    pair.check()
    backend = pair.client_config.backend
    if isinstance(backend, str):
        from ferrotls.backend import load_backend

        backend = load_backend(backend)
    encoded: list[Any] = []
    decoded: list[tuple[int, bytes]] = []
    orig_enc, orig_dec = common.encode_handshake, common.decode_handshake

    def enc(msg: Any) -> bytes:
        encoded.append(msg)
        return orig_enc(msg)

    def dec(t: int, body: bytes) -> Any:
        decoded.append((t, bytes(body)))
        return orig_dec(t, body)

    common.encode_handshake, common.decode_handshake = enc, dec  # type: ignore[assignment]
    try:
        pair.handshake()
    finally:
        common.encode_handshake, common.decode_handshake = orig_enc, orig_dec
    c, s = pair.last  # type: ignore[misc]
    chain = list(c.info.peer_certificates) if getattr(c.info, "peer_certificates", None) else None
    if not chain:
        from cryptography.hazmat.primitives.serialization import Encoding

        chain = [x.public_bytes(Encoding.DER) for x in pair.server_config.certificates[0].chain]
    verifier = pair.client_config.verifier
    now = datetime.datetime.now(datetime.UTC)
    certified = pair.server_config.certificates[0]
    content = certificate_verify_message(bytes(48), server=True)
    sig = certified.sign(0x0403, content)
    pub = certified.chain[0].public_key()
    suite = suite_info(CipherSuite.TLS_AES_256_GCM_SHA384)
    secret = bytes(48)
    rows: list[tuple[str, float, float]] = [
        ("full handshake (pair.handshake)", _per_call(pair.handshake, 0.5), 1),
        ("x509: DefaultVerifier.verify_server_chain", _per_call(lambda: verifier.verify_server_chain(chain, "test.example", now)), 1),
        ("sign: CertifiedKey.sign (ECDSA P-256)", _per_call(lambda: certified.sign(0x0403, content)), 1),
        ("sign: sign.verify (ECDSA P-256)", _per_call(lambda: verify(pub, 0x0403, sig, content)), 1),
        ("kx: x25519_generate + public_bytes", _per_call(lambda: backend.x25519_generate().public_bytes()), 2),
        ("kx: exchange", _per_call(lambda k=backend.x25519_generate(), p=backend.x25519_generate().public_bytes(): k.exchange(p)), 2),
        ("HKDF: hkdf_expand_label (SHA-384)", _per_call(lambda: backend.hkdf_expand_label("sha384", secret, b"key", b"", 32)), 20),
        ("HKDF: derive_secret (SHA-384)", _per_call(lambda: backend.derive_secret("sha384", secret, b"c hs traffic", secret)), 16),
        ("record protector construction (traffic_keys + record_protector)", _per_call(
            lambda: (lambda k: backend.record_protector(suite.suite, k.key, k.iv))(traffic_keys(backend, suite, secret))), 8),
        (f"codec: encode the {len(encoded)} sent messages", _per_call(lambda: [orig_enc(m) for m in encoded]), 1),
        (f"codec: decode the {len(decoded)} received messages", _per_call(lambda: [orig_dec(t, b) for t, b in decoded]), 1),
    ]
    lines = [
        f"### unprofiled pieces, backend {name} (CPU µs; x = times per handshake)",
        "",
        "| piece | µs/call | x | µs/hs |",
        "|---|---:|---:|---:|",
    ]
    total = rows[0][1]
    for label, sec, times in rows:
        lines.append(f"| {label} | {sec * 1e6:,.1f} | {times:g} | {sec * times * 1e6:,.0f} |")
    accounted = sum(sec * times for _, sec, times in rows[1:])
    lines.append(
        f"| rest (connection/handshake logic, record framing, seal/open, transcript, GC) "
        f"| | | {(total - accounted) * 1e6:,.0f} |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=0, help="handshakes (default: 50 python, 500 native)")
    ap.add_argument("--backend", action="append", choices=["native", "python", "pyca-standin"])
    ap.add_argument("--defaults", action="store_true", help="library-default key shares")
    ap.add_argument("--limit", type=int, default=25)
    ap.add_argument("--pyinstrument", action="store_true")
    ap.add_argument("--no-micro", action="store_true", help="skip the unprofiled per-piece costs")
    args = ap.parse_args(argv)
    have = available_backends()
    wanted = args.backend or ["native", "python", "pyca-standin"]
    have.append("pyca-standin")
    print(f"# ferrotls handshake profile (pid {os.getpid()}, available backends: {have})\n")
    for name in wanted:
        if name not in have:
            print(f"## backend {name}: not available, skipped\n")
            continue
        n = args.n or (50 if name == "python" else 400)
        print(profile_backend(name, n, args.defaults, args.limit, args.pyinstrument))
        print()
        if not args.no_micro and not args.defaults:
            print(micro(name))
            print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
