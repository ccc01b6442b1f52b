"""Markdown ratio table from a pytest-benchmark JSON file.

    .venv/bin/pytest benches --benchmark-enable --benchmark-json=/tmp/bench.json
    .venv/bin/python benches/report.py /tmp/bench.json

Per group (``{op}-{suite}-{size}``, ``hkdf_expand_label-...``, ``x25519-exchange``):
ops/s and MB/s (MB = 10**6 bytes) for each implementation, and native/cryptography.
Handshake groups (``handshake-*``, benches/bench_handshake.py) get their own tables:
handshakes/s with ratios to ssl and tlslite-ng, bytes on the wire beside ssl's, and
the handshake targets (PASS/FAIL on the ratios measured in the same run; the ratio
to the shared/anchors figure is shown beside it).
Rates use the *median* time per call (``--stat mean`` to change), because the
shared machine produces long-tailed outliers.  Then the issue's target lines with
PASS/FAIL ("n/a" when an implementation is missing from the file).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

IMPL_ORDER = ["native", "python", "cryptography"]

# (description, group, minimum native/cryptography ratio)
TARGETS: list[tuple[str, str, float]] = [
    ("native AES-128-GCM 16 KiB seal >= 0.70x cryptography", "seal-aes128gcm-16384", 0.70),
    ("native AES-256-GCM 16 KiB seal >= 0.70x cryptography", "seal-aes256gcm-16384", 0.70),
    ("native ChaCha20-Poly1305 16 KiB seal >= 0.90x cryptography", "seal-chacha20-16384", 0.90),
    (
        "native 64 B seal calls/s >= cryptography AESGCM.encrypt 64 B (AES-128)",
        "seal-aes128gcm-64",
        1.0,
    ),
    (
        "native 64 B seal calls/s >= cryptography AESGCM.encrypt 64 B (AES-256)",
        "seal-aes256gcm-64",
        1.0,
    ),
    ("native X25519 exchange >= cryptography", "x25519-exchange", 1.0),
]


# Handshake groups (benches/bench_handshake.py) get their own tables, below.
HANDSHAKE_PREFIX = "handshake-"
HANDSHAKE_GROUP = "handshake-full-x25519"
HANDSHAKE_ORDER = ["native", "python", "ssl", "ssl-2tickets", "tlslite"]
# shared/anchors/RESULTS.md, this machine: ssl full handshake with OpenSSL's 2 tickets,
# tlslite-ng full handshake (x25519, ECDSA P-256); ssl's bytes on the wire.
ANCHOR_SSL_HS = 1762.0
ANCHOR_TLSLITE_HS = 66.4
ANCHOR_SSL_WIRE = {"c2s": 326, "s2c_flight": 935, "s2c_after": 510}
# (description, numerator impl, denominator impl, anchor for the denominator, minimum ratio);
# a ratio must be > minimum when the minimum is given as negative (strict), else >=.
HANDSHAKE_TARGETS: list[tuple[str, str, str, float, float]] = [
    ("ferrotls-native >= 0.6x ssl full handshakes/s (ssl with 2 tickets)", "native", "ssl-2tickets", ANCHOR_SSL_HS, 0.6),
    ("ferrotls-native >= 15x tlslite-ng full handshakes/s", "native", "tlslite", ANCHOR_TLSLITE_HS, 15.0),
    ("ferrotls-python > tlslite-ng full handshakes/s", "python", "tlslite", ANCHOR_TLSLITE_HS, -1.0),
]


def load(path: Path, stat: str) -> dict[str, dict[str, dict[str, float]]]:
    """{group: {impl: {"ops": ops/s, "bytes": payload bytes, "wire_*": handshake bytes}}}."""
    data = json.loads(path.read_text(encoding="utf-8"))
    groups: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for bench in data.get("benchmarks", []):
        extra = bench.get("extra_info", {})
        impl = extra.get("impl") or (bench.get("params") or {}).get("impl") or bench["name"]
        seconds = float(bench["stats"][stat])
        groups[bench.get("group") or bench["name"]][impl] = {
            "ops": 1.0 / seconds if seconds > 0 else float("inf"),
            "bytes": float(extra.get("bytes", 0)),
            **{k: float(v) for k, v in extra.items() if k.startswith("wire_") or k == "cpu_us"},
        }
    return groups


def ratio(group: dict[str, dict[str, float]]) -> float | None:
    if "native" in group and "cryptography" in group:
        return group["native"]["ops"] / group["cryptography"]["ops"]
    return None


def fmt(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 1:
        return f"{x:,.2f}"
    return f"{x:.3g}"


def _group_key(name: str) -> tuple[Any, ...]:
    parts = name.split("-")
    size = int(parts[-1]) if parts[-1].isdigit() else 0
    return (parts[0], "-".join(parts[1:-1]) if size else name, size)


def render_handshakes(groups: dict[str, dict[str, dict[str, float]]], stat: str) -> str:
    """Handshakes/s with ratios, bytes on the wire, and the handshake targets."""
    hs = {k: v for k, v in groups.items() if k.startswith(HANDSHAKE_PREFIX)}
    main = hs.get(HANDSHAKE_GROUP, {})
    ssl_rate = main.get("ssl-2tickets", {}).get("ops")
    tl_rate = main.get("tlslite", {}).get("ops")
    lines = [
        f"Full handshakes/s ({stat} time per handshake; both ends in one thread, in memory). "
        f"Anchors (shared/anchors/RESULTS.md): ssl {ANCHOR_SSL_HS:,.0f}/s with 2 tickets, "
        f"tlslite-ng {ANCHOR_TLSLITE_HS:g}/s.",
        "",
        "| group | impl | hs/s | µs/hs | CPU µs/hs | / ssl-2tickets | / tlslite | CPU: ssl / impl |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in sorted(hs, key=lambda n: (n != HANDSHAKE_GROUP, n)):
        g = hs[name]
        order = [i for i in HANDSHAKE_ORDER if i in g] + sorted(set(g) - set(HANDSHAKE_ORDER))
        for impl in order:
            ops = g[impl]["ops"]
            r_ssl = f"{ops / ssl_rate:.3g}x" if ssl_rate else "-"
            r_tl = f"{ops / tl_rate:.3g}x" if tl_rate else "-"
            cpu = g[impl].get("cpu_us")
            ssl_cpu = g.get("ssl", {}).get("cpu_us")
            r_cpu = f"{ssl_cpu / cpu:.3g}x" if cpu and ssl_cpu else "-"
            lines.append(f"| {name} | {impl} | {fmt(ops)} | {1e6 / ops:,.0f} | "
                         f"{f'{cpu:,.0f}' if cpu else '-'} | {r_ssl} | {r_tl} | {r_cpu} |")
    lines += [
        "",
        "Bytes on the wire per full handshake (same certificate chain for all rows):",
        "",
        "| group | impl | c->s | s->c handshake flight | s->c after (tickets) | s->c total |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name in sorted(hs, key=lambda n: (n != HANDSHAKE_GROUP, n)):
        g = hs[name]
        order = [i for i in HANDSHAKE_ORDER if i in g] + sorted(set(g) - set(HANDSHAKE_ORDER))
        for impl in order:
            w = g[impl]
            if "wire_c2s" not in w:
                continue
            lines.append(
                f"| {name} | {impl} | {w['wire_c2s']:.0f} | {w['wire_s2c_flight']:.0f} "
                f"| {w['wire_s2c_after']:.0f} | {w['wire_s2c']:.0f} |"
            )
    a = ANCHOR_SSL_WIRE
    lines.append(
        f"| anchors | ssl (RESULTS.md) | {a['c2s']} | {a['s2c_flight']} | {a['s2c_after']} "
        f"| {a['s2c_flight'] + a['s2c_after']} |"
    )
    lines += [
        "",
        "| handshake target | measured ratio | ratio vs anchor | result |",
        "|---|---:|---:|---|",
    ]
    for desc, num, den, anchor, minimum in HANDSHAKE_TARGETS:
        n_ops = main.get(num, {}).get("ops")
        d_ops = main.get(den, {}).get("ops")
        if n_ops is None:
            lines.append(f"| {desc} | - | - | n/a ({num} missing from {HANDSHAKE_GROUP}) |")
            continue
        vs_anchor = n_ops / anchor
        if d_ops is None:
            lines.append(f"| {desc} | - | {vs_anchor:.3g}x | n/a ({den} missing) |")
            continue
        r = n_ops / d_ops
        ok = r > abs(minimum) if minimum < 0 else r >= minimum
        lines.append(f"| {desc} | {r:.3g}x | {vs_anchor:.3g}x | {'PASS' if ok else 'FAIL'} |")
    return "\n".join(lines)


def render(groups: dict[str, dict[str, dict[str, float]]], stat: str) -> str:
    hs = {k: v for k, v in groups.items() if k.startswith(HANDSHAKE_PREFIX)}
    groups = {k: v for k, v in groups.items() if not k.startswith(HANDSHAKE_PREFIX)}
    if not groups:
        return render_handshakes(hs, stat)
    out = _render_records(groups, stat)
    return out + ("\n\n" + render_handshakes(hs, stat) if hs else "")


def _render_records(groups: dict[str, dict[str, dict[str, float]]], stat: str) -> str:
    impls = [i for i in IMPL_ORDER if any(i in g for g in groups.values())]
    impls += sorted({i for g in groups.values() for i in g} - set(impls))
    lines = [f"Rates from the {stat} time per call; MB = 10^6 bytes of payload.", ""]
    header = ["group"]
    for i in impls:
        header += [f"{i} ops/s", f"{i} MB/s"]
    header.append("native/cryptography")
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" + "---:|" * (len(header) - 1))
    for name in sorted(groups, key=_group_key):
        g = groups[name]
        row = [name]
        for i in impls:
            if i in g:
                row.append(fmt(g[i]["ops"]))
                row.append(fmt(g[i]["ops"] * g[i]["bytes"] / 1e6) if g[i]["bytes"] else "")
            else:
                row += ["-", "-"]
        r = ratio(g)
        row.append(f"{r:.2f}x" if r is not None else "-")
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "| target | native/cryptography | result |", "|---|---:|---|"]
    for desc, group, minimum in TARGETS:
        r = ratio(groups.get(group, {}))
        if r is None:
            lines.append(f"| {desc} | - | n/a (missing native or cryptography in {group}) |")
        else:
            lines.append(f"| {desc} | {r:.2f}x | {'PASS' if r >= minimum else 'FAIL'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json_file", type=Path)
    parser.add_argument("--stat", default="median", choices=["median", "mean", "min"])
    args = parser.parse_args(argv)
    groups = load(args.json_file, args.stat)
    if not groups:
        print("no benchmarks in", args.json_file, file=sys.stderr)
        return 1
    print(render(groups, args.stat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
