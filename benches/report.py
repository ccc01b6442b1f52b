"""Markdown ratio table from a pytest-benchmark JSON file.

    .venv/bin/pytest benches --benchmark-enable --benchmark-json=/tmp/bench.json
    .venv/bin/python benches/report.py /tmp/bench.json

Per group (``{op}-{suite}-{size}``, ``hkdf_expand_label-...``, ``x25519-exchange``):
ops/s and MB/s (MB = 10**6 bytes) for each implementation, and native/cryptography.
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


def load(path: Path, stat: str) -> dict[str, dict[str, dict[str, float]]]:
    """{group: {impl: {"ops": ops/s, "bytes": payload bytes}}}."""
    data = json.loads(path.read_text(encoding="utf-8"))
    groups: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for bench in data.get("benchmarks", []):
        extra = bench.get("extra_info", {})
        impl = extra.get("impl") or (bench.get("params") or {}).get("impl") or bench["name"]
        seconds = float(bench["stats"][stat])
        groups[bench.get("group") or bench["name"]][impl] = {
            "ops": 1.0 / seconds if seconds > 0 else float("inf"),
            "bytes": float(extra.get("bytes", 0)),
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


def render(groups: dict[str, dict[str, dict[str, float]]], stat: str) -> str:
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
