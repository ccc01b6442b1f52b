"""One command: run the data-path benches and write benches/RESULTS.md.

    .venv/bin/python benches/make_results.py [--out benches/RESULTS.md] [--json FILE]

Runs ``benches/bench_throughput.py`` (pytest-benchmark; ferrotls-native,
ferrotls-python, ``ssl`` MemoryBIO and tlslite-ng in the same run), a py-spy
profile (native frames) of the bulk loop when py-spy is installed
(``pip install -e '.[bench]'``), a cProfile of the 64-byte message loop, ``benches/idle_memory.py`` (in a child process,
for a clean RSS) and ``benches/bench_sockets.py`` (127.0.0.1 sockets, blocking
and asyncio, ferrotls-native, ferrotls-python and ``ssl`` in the same run).
Rates use the median round.  The whole run takes a few minutes.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import json
import os
import platform
import pstats
import re
import shutil
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

SUITES = ["aes128gcm", "aes256gcm", "chacha20"]
FLAGS = ["aes", "pclmulqdq", "avx2", "vaes", "vpclmulqdq", "avx512f", "avx512vl", "sha_ni"]

# The same driver (benches/throughput.py) run on commit 12b9d29, before this work,
# in one process with ssl beside it (best of 3 rounds; MB/s and messages/s).
BEFORE = {
    "commit": "12b9d29",
    "bulk": {
        "aes128gcm": {"native": 768.0, "ssl": 746.9},
        "aes256gcm": {"native": 777.8, "ssl": 660.5},
        "chacha20": {"native": 516.8, "ssl": 468.3},
    },
    "small": {
        "aes128gcm": {"native": 260_207, "ssl": 260_710},
        "aes256gcm": {"native": 254_005, "ssl": 250_136},
        "chacha20": {"native": 172_821, "ssl": 160_451},
    },
    "threads": {"one": 1030.0, "two": 643.0},  # 16 KiB writes, two pairs
}


def cpu_info() -> dict[str, str]:
    info = {"model": platform.processor() or "?", "flags": "", "cpus": str(os.cpu_count())}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model name":
                info["model"] = value.strip()
            if key.strip() == "Flags":
                have = set(value.split())
                info["flags"] = ", ".join(f"{f} {'yes' if f in have else 'no'}" for f in FLAGS)
            if key.strip() == "Hypervisor vendor":
                info["hypervisor"] = value.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return info


def versions() -> dict[str, str]:
    import cryptography

    out = {
        "python": platform.python_version(),
        "ssl": ssl.OPENSSL_VERSION,
        "cryptography": cryptography.__version__,
    }
    try:
        import tlslite

        out["tlslite-ng"] = getattr(tlslite, "__version__", "?")
    except ImportError:
        out["tlslite-ng"] = "not installed"
    return out


def _pytest_benchmarks(bench_file: str, json_path: Path) -> list[dict[str, Any]]:
    """Run one pytest-benchmark file of benches/ and return its benchmarks."""
    cmd = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(HERE / bench_file),
        "--benchmark-enable", f"--benchmark-json={json_path}", "-q",
    ]
    subprocess.run(cmd, cwd=ROOT, check=True)
    benchmarks: list[dict[str, Any]] = json.loads(json_path.read_text())["benchmarks"]
    return benchmarks


def run_benches(json_path: Path) -> dict[str, dict[str, float]]:
    rates: dict[str, dict[str, float]] = {}
    for b in _pytest_benchmarks("bench_throughput.py", json_path):
        extra = b["extra_info"]
        median = b["stats"]["median"]
        per_s = extra["bytes"] / median
        if extra["kind"] == "small":
            per_s = extra["messages"] / median
        rates.setdefault(b["group"], {})[extra["impl"]] = per_s
    return rates


SOCKET_KINDS = [
    # kind, label, unit, scale (units per second -> reported figure)
    ("bulk", "bulk 16 KiB writes", "MB/s", 1e-6),
    ("rr", "64 B request -> 64 B reply", "round trips/s", 1.0),
    ("stream", "64 B one-way messages", "msg/s", 1.0),
    ("handshake", "connect + full handshake + close", "hs/s", 1.0),
]


def run_socket_benches(json_path: Path) -> dict[str, dict[str, float]]:
    """Median rate per (``sockets-{mode}-{kind}`` group, impl), in units per second."""
    rates: dict[str, dict[str, float]] = {}
    for b in _pytest_benchmarks("bench_sockets.py", json_path):
        extra = b["extra_info"]
        units = extra["units"]
        if extra["kind"] in ("rr", "stream"):
            units /= 64  # bytes -> messages
        rates.setdefault(b["group"], {})[extra["impl"]] = units / b["stats"]["median"]
    return rates


def socket_section(rates: dict[str, dict[str, float]]) -> list[str]:
    md = ["## Sockets: 127.0.0.1, blocking and asyncio (generated)\n"]
    md.append("- `benches/bench_sockets.py` (drivers: `benches/sockets.py`): server in a thread (blocking "
              "accept loop, `ssl.SSLSocket` / `ferrotls.TLSSocket`) or an event loop in a thread (asyncio "
              "`start_server`, `ssl=` / `ferrotls.asyncio`), client in the bench thread (blocking calls or "
              "its own event loop); one process, so both ends share the GIL.")
    md.append("- TLS 1.3, AES-128-GCM, X25519, ECDSA P-256 leaf, server certificate verified, no tickets, "
              "TCP_NODELAY; median of the rounds; ferrotls-python runs short rounds.")
    md.append("- bulk: 16 KiB writes one direction, the server reads into a 256 KiB buffer (MB = 10^6 bytes); "
              "round trips: 64 B request, 64 B reply; one-way: 64 B writes, one record each; "
              "handshakes: new TCP connection, full handshake, close, the server reads to the end.\n")
    md.append("| mode | measurement | unit | native | python | ssl | native/ssl | python/ssl |")
    md.append("|---|---|---|---:|---:|---:|---:|---:|")
    for mode in ("blocking", "asyncio"):
        for kind, label, unit, scale in SOCKET_KINDS:
            g = rates.get(f"sockets-{mode}-{kind}", {})
            n, p, s = g.get("native"), g.get("python"), g.get("ssl")
            row = [mode, label, unit] + [fmt(v * scale) if v else "n/a" for v in (n, p, s)]
            row += [f"{fmt(x)}x" if x else "n/a" for x in (ratio(n, s), ratio(p, s))]
            md.append("| " + " | ".join(row) + " |")
    md.append("")
    return md


def profile_small() -> str:
    import throughput

    run = throughput.make_runner("native", "aes128gcm", "small")
    run(2000)
    prof = cProfile.Profile()
    prof.enable()
    run(20000)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(10)
    text = buf.getvalue()
    lines = [ln for ln in text.splitlines() if re.match(r"\s+\d", ln) or "ncalls" in ln]
    return "\n".join(ln.replace(str(ROOT) + "/", "") for ln in lines)


def _frame_key(frame: str) -> str:
    """``func (path/file.py:12)`` -> ``func (file.py)``; native frames keep their library."""
    m = re.match(r"(.*) \((.*?)(?::\d+)?\)$", frame)
    if not m:
        return frame
    func, where = m.groups()
    return f"{func} ({Path(where).name})"


def _category(frame: str) -> str:
    f = frame.lower()
    if "_native" in f and any(k in f for k in ("aes", "gcm", "ghash", "chacha", "poly1305")):
        return "AEAD (ring, native)"
    if "_native" in f:
        return "other native (PyO3 glue, framing)"
    if ".py" in f:
        return "Python code"
    if "libpython" in f:
        return "CPython runtime (C)"
    if "libc" in f or "ld-linux" in f:
        return "libc (malloc, memcpy, ...)"
    return "other"


def profile_pyspy(suite: str = "aes256gcm", kind: str = "bulk", seconds: float = 8.0) -> dict[str, Any] | None:
    """Sample the in-memory pump with py-spy (native frames included): top functions
    by own time and the share per category, over the samples inside the pump."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        return None
    raw = Path("/tmp/ferrotls-pyspy.txt")
    cmd = [exe, "record", "-r", "1000", "--native", "-f", "raw", "-o", str(raw), "--",
           sys.executable, str(HERE / "throughput.py"), "--spin", "native", suite, kind, str(seconds)]
    try:
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"py-spy failed: {exc}", file=sys.stderr)
        return None
    own: dict[str, int] = {}
    cats: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if ".<locals>.run (throughput.py" not in stack:
            continue  # start-up, imports, handshake: only the pump loop counts
        n = int(count)
        total += n
        leaf = stack.split(";")[-1]
        key = _frame_key(leaf)
        own[key] = own.get(key, 0) + n
        cat = _category(leaf)
        cats[cat] = cats.get(cat, 0) + n
    if not total:
        return None
    top = sorted(own.items(), key=lambda kv: -kv[1])[:15]
    return {"suite": suite, "kind": kind, "samples": total,
            "top": [(k, v / total) for k, v in top],
            "categories": sorted(((k, v / total) for k, v in cats.items()), key=lambda kv: -kv[1])}


def interleaved(rounds: int = 12) -> dict[str, dict[str, tuple[float, float]]]:
    """Native and ssl rounds alternated (ABAB...) per suite and kind, so a noisy
    neighbour on a shared VM slows both alike: {group: {impl: (best, median)}} in
    bytes/s (bulk) or messages/s (small)."""
    import statistics

    import throughput
    from ferrotls.apps.sslpeer import measure

    plan = {"bulk": (throughput.CHUNK, 400), "small": (throughput.SMALL, 8000)}
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for suite in SUITES:
        for kind, (_, n) in plan.items():
            runs = {impl: throughput.make_runner(impl, suite, kind) for impl in ("native", "ssl")}
            samples: dict[str, list[float]] = {impl: [] for impl in runs}
            for run in runs.values():
                run(n // 4)  # warm up
            for _ in range(rounds):
                for impl, run in runs.items():
                    rate = measure(run, n=n, warmup=0)
                    samples[impl].append(rate.units_per_second if kind == "bulk" else rate.per_second)
            out[f"{kind}-{suite}"] = {impl: (max(v), statistics.median(v)) for impl, v in samples.items()}
    return out


def aead_ceiling(seconds: float = 0.6) -> dict[str, float]:
    """Bytes/s of a bare native seal_record + open_application_data of 16 KiB per
    suite (no connection, no Python beyond the two calls): the most a bulk pump
    could reach in one thread.  Best of several short rounds."""
    import time

    from ferrotls._native import RecordProtector

    data = bytes(16384)
    out: dict[str, float] = {}
    for suite, code in (("aes128gcm", 0x1301), ("aes256gcm", 0x1302), ("chacha20", 0x1303)):
        key = bytes(16 if code == 0x1301 else 32)
        w, r = RecordProtector(code, key, bytes(12)), RecordProtector(code, key, bytes(12))
        seal, open_ = w.seal_record, r.open_application_data
        best = 0.0
        end = time.perf_counter() + seconds * 5
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            for _ in range(200):
                open_(seal(23, data))
            best = max(best, 200 * len(data) / (time.perf_counter() - t0))
        out[suite] = best
    return out


def idle_memory() -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(HERE / "idle_memory.py"), "2000"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def fmt(v: float) -> str:
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def status(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"))
    ap.add_argument("--json", default="/tmp/ferrotls-throughput.json")
    ap.add_argument("--sockets-json", default="/tmp/ferrotls-sockets.json")
    args = ap.parse_args()

    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    cpu, ver = cpu_info(), versions()
    rates = run_benches(Path(args.json))
    ceiling = aead_ceiling()
    alt = interleaved()
    prof = profile_small()
    spy = profile_pyspy()
    mem = idle_memory()
    sock_rates = run_socket_benches(Path(args.sockets_json))

    def r(group: str, impl: str) -> float | None:
        return rates.get(group, {}).get(impl)

    md: list[str] = []
    md.append("# Data-path throughput: ferrotls vs ssl and tlslite-ng (generated)\n")
    md.append(f"- Generated by `.venv/bin/python benches/make_results.py` at {started}")
    md.append(f"- CPU: {cpu['model']}, {cpu['cpus']} vCPUs" + (f", {cpu['hypervisor']} guest" if "hypervisor" in cpu else ""))
    md.append(f"- CPU flags of interest: {cpu['flags']}")
    md.append("- " + ", ".join(f"{k} {v}" for k, v in ver.items()))
    md.append("- Method: in memory, one process, all peers in the same run (benches/throughput.py); "
              "bulk = 16 KiB writes one direction (client seals, server opens, one thread), MB = 10^6 bytes "
              "of application data; small = 64-byte write then the peer reads it; median of the rounds.")
    md.append("- The machine is a shared 2-vCPU VM: absolute figures drift between runs; compare within a run.\n")

    md.append("## Rates\n")
    md.append("| suite | bulk MB/s native | python | ssl | tlslite | small msg/s native | python | ssl | tlslite |")
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in SUITES:
        row = [s]
        for kind, scale in (("bulk", 1e-6), ("small", 1.0)):
            for impl in ("native", "python", "ssl", "tlslite"):
                v = r(f"{kind}-{s}", impl)
                row.append(fmt(v * scale) if v else "n/a")
        md.append("| " + " | ".join(row) + " |")
    md.append("")
    md.append("| seal 16 KiB | native seal_record MB/s | cryptography encrypt MB/s |")
    md.append("|---|---:|---:|")
    for s in SUITES:
        n, c = r(f"seal16k-{s}", "native"), r(f"seal16k-{s}", "cryptography")
        md.append(f"| {s} | {fmt(n / 1e6) if n else 'n/a'} | {fmt(c / 1e6) if c else 'n/a'} |")
    md.append("")
    md.append("Native and ssl again, with their rounds alternated (12 rounds each, bulk 400 x 16 KiB, "
              "small 8,000 x 64 B per round) so that a slow spell of the shared VM hits both:\n")
    md.append("| group | native best | native median | ssl best | ssl median | ratio of bests | ratio of medians |")
    md.append("|---|---:|---:|---:|---:|---:|---:|")
    for g, v in alt.items():
        scale = 1e-6 if g.startswith("bulk") else 1.0
        (nb, nm), (sb, sm) = v["native"], v["ssl"]
        md.append(f"| {g} | {fmt(nb * scale)} | {fmt(nm * scale)} | {fmt(sb * scale)} | {fmt(sm * scale)} | "
                  f"{fmt(nb / sb)}x | {fmt(nm / sm)}x |")
    md.append("")
    md.append("| ceiling, one thread | bare seal_record + open_application_data, 16 KiB, MB/s | as a multiple of ssl's bulk pump |")
    md.append("|---|---:|---:|")
    for s in SUITES:
        c, sb = ceiling.get(s), r(f"bulk-{s}", "ssl")
        md.append(f"| {s} | {fmt(c / 1e6) if c else 'n/a'} | {fmt(ratio(c, sb) or 0)}x |")
    md.append("")
    md.append("The ceiling is what the AEAD alone allows (the same crypto as the bulk pump, no connection "
              "objects): a bulk ratio to ssl above the last column is impossible on this CPU.\n")
    md.append("## Threads: one connection pair per worker thread (bulk pump, MB/s aggregate)\n")
    md.append("GIL released for calls whose estimated work is >= `ferrotls._native.gil_release_threshold()` "
              "ns (default 6,000: 32 KiB of AES-GCM, 12 KiB of ChaCha20); see docs/threads.md.\n")
    md.append("| suite, write size | native 1 thread | native 2 threads | native 2t/1t | ssl 1 thread | ssl 2 threads | ssl 2t/1t |")
    md.append("|---|---:|---:|---:|---:|---:|---:|")
    thread_groups = sorted(g for g in rates if g.startswith("threads-"))
    for g in thread_groups:
        cells = [g.removeprefix("threads-").replace("-", ", ").replace("k", " KiB")]
        for impl in ("native", "ssl"):
            a, b = r(g, f"{impl}-1t"), r(g, f"{impl}-2t")
            cells += [fmt(a / 1e6) if a else "n/a", fmt(b / 1e6) if b else "n/a", f"{fmt(ratio(b, a) or 0)}x"]
        md.append("| " + " | ".join(cells) + " |")
    one, two = r("threads-aes128gcm-16k", "native-1t"), r("threads-aes128gcm-16k", "native-2t")
    md.append("")

    md.append("## Targets (ratios measured in this run)\n")
    md.append("| target | measured | status |")
    md.append("|---|---:|---|")
    targets: list[tuple[str, float | None, float]] = []
    for s in SUITES:
        targets.append((f"native 64 B msgs >= 0.7x ssl ({s})", ratio(r(f"small-{s}", "native"), r(f"small-{s}", "ssl")), 0.7))
    for s in SUITES:
        targets.append((f"native bulk >= 1.5x ssl ({s})", ratio(r(f"bulk-{s}", "native"), r(f"bulk-{s}", "ssl")), 1.5))
    for s in SUITES:
        a = alt[f"bulk-{s}"]
        targets.append((f"native bulk >= 1.5x ssl ({s}), alternated rounds, ratio of medians",
                        a["native"][1] / a["ssl"][1], 1.5))
    for s in SUITES:
        targets.append((f"native seal 16 KiB >= 0.7x cryptography ({s})", ratio(r(f"seal16k-{s}", "native"), r(f"seal16k-{s}", "cryptography")), 0.7))
    for s in SUITES:
        targets.append((f"python bulk >= 3x tlslite-ng ({s})", ratio(r(f"bulk-{s}", "python"), r(f"bulk-{s}", "tlslite")), 3.0))
    targets.append(("two threads >= 1.7x one thread (native, AES-128-GCM, 16 KiB writes)", ratio(two, one), 1.7))
    for g in thread_groups:
        if g != "threads-aes128gcm-16k":
            label = g.removeprefix("threads-").replace("-", ", ").replace("k", " KiB")
            targets.append((f"two threads >= 1.7x one thread (native, {label} writes)",
                            ratio(r(g, "native-2t"), r(g, "native-1t")), 1.7))
    for name, value, minimum in targets:
        md.append(f"| {name} | {fmt(value) + 'x' if value else 'n/a'} | {status(None if value is None else value >= minimum)} |")
    gib = 1 << 30
    per_conn = mem["rss_per_pair"] / 2
    md.append(f"| 10,000 idle connections well under 1 GiB | {per_conn * 10000 / gib:.2f} GiB (RSS) | "
              f"{status(per_conn * 10000 < gib / 2)} |")
    md.append("")

    md.append(f"## Before / after (same driver; before = commit {BEFORE['commit']}, ssl in the same run each time)\n")
    md.append("| measurement | before native | before ratio to ssl | after native | after ratio to ssl |")
    md.append("|---|---:|---:|---:|---:|")
    for kind, unit, scale in (("bulk", "MB/s", 1e-6), ("small", "msg/s", 1.0)):
        for s in SUITES:
            b = BEFORE[kind][s]
            an, asl = r(f"{kind}-{s}", "native"), r(f"{kind}-{s}", "ssl")
            md.append(f"| {kind} {s} ({unit}) | {fmt(b['native'])} | {b['native'] / b['ssl']:.2f}x | "
                      f"{fmt(an * scale) if an else 'n/a'} | {fmt(ratio(an, asl) or 0)}x |")
    bt = BEFORE["threads"]
    md.append(f"| two threads / one thread | {fmt(bt['two'])} / {fmt(bt['one'])} MB/s (16 KiB writes) | "
              f"{bt['two'] / bt['one']:.2f}x | {fmt((two or 0) / 1e6)} / {fmt((one or 0) / 1e6)} MB/s (16 KiB writes) | "
              f"{fmt(ratio(two, one) or 0)}x |")
    md.append("")

    md.extend(socket_section(sock_rates))

    md.append("## Memory of idle established connections\n")
    md.append(f"{mem['pairs']} client+server pairs (native backend, AES-128-GCM, X25519, ECDSA P-256 "
              f"certificate, configs shared), after the handshake with events drained "
              f"(`benches/idle_memory.py`):\n")
    md.append(f"- RSS delta: {mem['rss_per_pair'] / 2:,.0f} bytes per connection "
              f"({mem['rss_per_pair']:,.0f} per pair) -> {per_conn * 10000 / 2**20:,.0f} MiB for 10,000 connections")
    md.append(f"- tracemalloc (Python allocations): {mem['tracemalloc_per_pair'] / 2:,.0f} bytes per connection")
    md.append("- Largest Python allocation sites per pair:\n")
    md.append("| site | bytes per pair |")
    md.append("|---|---:|")
    for site, size in mem["top"][:8]:
        md.append(f"| `{site.replace(str(ROOT) + '/', '')}` | {size:,} |")
    md.append("")

    if spy:
        md.append(f"## Profile: bulk 16 KiB writes, native {spy['suite']} (py-spy, native frames, "
                  f"{spy['samples']:,} samples inside the pump)\n")
        md.append("`py-spy record -r 1000 --native` on `python benches/throughput.py --spin native "
                  f"{spy['suite']} {spy['kind']} 8`; own time per function, and per category.\n")
        md.append("| category | share |")
        md.append("|---|---:|")
        for k, v in spy["categories"]:
            md.append(f"| {k} | {100 * v:.1f} % |")
        md.append("")
        md.append("| function (own time) | share |")
        md.append("|---|---:|")
        for k, v in spy["top"]:
            md.append(f"| `{k}` | {100 * v:.1f} % |")
        md.append("")
    else:
        md.append("## Profile (py-spy)\n")
        md.append("py-spy was not available (`pip install -e '.[bench]'`); only the cProfile below ran.\n")
    md.append("## Profile: 64-byte messages, native AES-128-GCM (cProfile, 20,000 messages, top by tottime)\n")
    md.append("```")
    md.append(prof)
    md.append("```")
    Path(args.out).write_text("\n".join(md) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
