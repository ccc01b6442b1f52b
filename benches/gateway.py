"""``ferrotls gateway`` beside stunnel4, nginx (stream) and haproxy, in one run (``make bench-gateway``).

Every gateway terminates TLS 1.3 with the same ECDSA P-256 certificate on
127.0.0.1 and forwards the plaintext to the same backend (``gateway_c/backend.c``,
a one-thread epoll echo server).  The load generator is ``gateway_c/loadgen.c``
(OpenSSL, one thread per client; each connection is a handshake, a 64-byte
request and its echo, then a full close_notify exchange).  Both are compiled
here with the system compiler against the system OpenSSL.

Rows (medians over ``--runs`` rounds; in each round every gateway is started,
measured and stopped in turn, the order rotating from round to round, so a
slow spell of the shared machine hits every peer):

* new connections/s at 1, 8 and 64 concurrent clients;
* resumed connections/s at 8 and 64 clients (TLS 1.3 tickets, each client
  resuming its latest session);
* gateway CPU seconds per 1,000 new and per 1,000 resumed connections (user +
  system time of the gateway's processes, from /proc, over the 8-client runs);
* bulk MB/s through the echo, one stream and 8 streams (MB = 10^6 payload bytes
  each way);
* KiB of gateway RSS per idle TLS connection, 1,000 connections open;
* bytes lost (request/echo bytes that did not come back intact, plus failed
  connections): must be 0.

Single-core rows pin the gateway to CPU 0 and the load generator and backend to
CPU 1 (taskset).  The ``--workers 2`` rows run ferrotls with 2 workers and nginx
with 2 worker processes on all CPUs.  Missing peers are installed from Debian
packages when running as root (``apt-get install stunnel4 nginx
libnginx-mod-stream haproxy``), else skipped with a note.

    python benches/gateway.py [--runs 3] [--seconds 2] [--peers ferrotls,stunnel,nginx,haproxy]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUILD = ROOT / "build" / "gateway-bench"
NGINX_STREAM = "/usr/lib/nginx/modules/ngx_stream_module.so"
PEERS = ("ferrotls", "stunnel", "nginx", "haproxy")


# --------------------------------------------------------------------------- set-up


def ensure_packages() -> list[str]:
    """Install the peers that are missing (root only); returns notes."""
    wanted = {"stunnel4": "stunnel4", "nginx": "nginx", "haproxy": "haproxy"}
    missing = [pkg for tool, pkg in wanted.items() if shutil.which(tool) is None
               and not Path(f"/usr/sbin/{tool}").exists()]
    if not Path(NGINX_STREAM).exists():
        missing.append("libnginx-mod-stream")
    if not missing:
        return []
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return [f"not installed (needs root and apt-get): {', '.join(missing)}"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", *missing]
    if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
        if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
            return [f"apt-get install {' '.join(missing)} failed"]
    return [f"installed from Debian packages: {', '.join(missing)}"]


def build_tools() -> tuple[Path, Path]:
    BUILD.mkdir(parents=True, exist_ok=True)
    out = []
    for name, libs in (("loadgen", ["-lssl", "-lcrypto", "-lpthread"]), ("backend", [])):
        src, exe = HERE / "gateway_c" / f"{name}.c", BUILD / name
        if not exe.exists() or exe.stat().st_mtime < src.stat().st_mtime:
            subprocess.run(["cc", "-O2", "-o", str(exe), str(src), *libs], check=True)
        out.append(exe)
    return out[0], out[1]


def make_pki(directory: Path) -> dict[str, str]:
    sys.path.insert(0, str(ROOT / "python"))
    from ferrotls.apps.testpki import make_test_pki

    pki = make_test_pki(("localhost", "127.0.0.1"), key_kind="p256")
    files = {"cert": directory / "cert.pem", "key": directory / "key.pem",
             "combined": directory / "combined.pem"}
    files["cert"].write_bytes(pki.chain_pem)
    files["key"].write_bytes(pki.key_pem)
    files["combined"].write_bytes(pki.chain_pem + pki.key_pem)
    for p in files.values():
        p.chmod(0o600)
    return {k: str(v) for k, v in files.items()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))


def taskset(cpus: str | None) -> list[str]:
    return ["taskset", "-c", cpus] if cpus and shutil.which("taskset") else []


# --------------------------------------------------------------------------- /proc


def tree(pid: int) -> list[int]:
    """pid and its descendants."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children[ppid].append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, ()))
    return out


def cpu_seconds(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def rss_kib(pids: list[int]) -> int:
    total = 0
    for p in pids:
        try:
            m = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{p}/status").read_text())
        except OSError:
            continue
        total += int(m.group(1)) if m else 0
    return total


def wait_port(port: int, proc: subprocess.Popen[bytes], bound: float = 20.0) -> None:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


# --------------------------------------------------------------------------- the gateways


@dataclass
class Gateway:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    workdir: Path

    def pids(self) -> list[int]:
        return tree(self.proc.pid)

    def stop(self) -> None:
        pids = self.pids()
        with_signal = signal.SIGTERM if self.name != "nginx" else signal.SIGQUIT
        try:
            self.proc.send_signal(with_signal)
            self.proc.wait(10)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            self.proc.kill()
            self.proc.wait(5)
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


BASELINE: list[str] = []
"""--baseline: the python/ directory of another ferrotls tree, run as peer "baseline"."""


def start_gateway(name: str, pki: dict[str, str], backend: int, workers: int, cpus: str | None,
                  workdir: Path) -> Gateway:
    port = free_port()
    d = workdir / f"{name}-{workers}"
    d.mkdir(exist_ok=True)
    env = None
    if name in ("ferrotls", "ferrotls-asyncio", "baseline"):
        cmd = [sys.executable, "-m", "ferrotls", "gateway", "--accept", f"127.0.0.1:{port}",
               "--connect", f"127.0.0.1:{backend}", "--cert", pki["cert"], "--key", pki["key"]]
        if name == "baseline":  # an older tree may know neither --tls1_3 nor --workers
            env = dict(os.environ, PYTHONPATH=BASELINE[0])
        else:
            cmd += ["--tls1_3", "--workers", str(workers)]
        if name == "ferrotls-asyncio":
            cmd += ["--event-loop", "asyncio"]
    elif name == "stunnel":
        conf = d / "stunnel.conf"
        conf.write_text(
            f"foreground = yes\npid =\nsocket = l:TCP_NODELAY=1\nsocket = r:TCP_NODELAY=1\n"
            f"[gw]\naccept = 127.0.0.1:{port}\nconnect = 127.0.0.1:{backend}\n"
            f"cert = {pki['cert']}\nkey = {pki['key']}\nsslVersionMin = TLSv1.3\n"
        )
        cmd = ["stunnel4", str(conf)]
    elif name == "nginx":
        conf = d / "nginx.conf"
        conf.write_text(
            f"load_module {NGINX_STREAM};\ndaemon off;\nworker_processes {workers};\n"
            f"pid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n"
            "events { worker_connections 8192; }\n"
            "stream {\n  server {\n"
            f"    listen 127.0.0.1:{port} ssl;\n    proxy_pass 127.0.0.1:{backend};\n"
            f"    ssl_certificate {pki['cert']};\n    ssl_certificate_key {pki['key']};\n"
            "    ssl_protocols TLSv1.3;\n    ssl_session_tickets on;\n  }\n}\n"
        )
        cmd = ["nginx", "-p", str(d), "-c", str(conf)]
    elif name == "haproxy":
        conf = d / "haproxy.cfg"
        conf.write_text(
            f"global\n  nbthread {workers}\n  maxconn 8192\n"
            "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n"
            f"frontend f\n  bind 127.0.0.1:{port} ssl crt {pki['combined']} ssl-min-ver TLSv1.3\n"
            "  default_backend b\n"
            f"backend b\n  server s1 127.0.0.1:{backend}\n"
        )
        cmd = ["haproxy", "-db", "-f", str(conf)]
    else:
        raise ValueError(name)
    log = open(d / "stderr.log", "ab")
    proc = subprocess.Popen([*taskset(cpus), *cmd], stdout=subprocess.DEVNULL, stderr=log,
                            stdin=subprocess.DEVNULL, preexec_fn=_raise_nofile, cwd=d, env=env)
    wait_port(port, proc)
    time.sleep(0.3)  # every worker up
    return Gateway(name, proc, port, d)


# --------------------------------------------------------------------------- measuring


@dataclass
class LoadResult:
    conns: int
    reused: int
    seconds: float
    errors: int
    lost: int
    bytes: int
    cpu: float = 0.0
    """CPU seconds the load generator used (user + system)."""


def loadgen(exe: Path, mode: str, port: int, n: int, arg: str, cpus: str | None) -> LoadResult:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([*taskset(cpus), str(exe), mode, str(port), str(n), arg],
                         capture_output=True, text=True, timeout=300, preexec_fn=_raise_nofile)
    m = re.search(r"conns=(\d+) reused=(\d+) seconds=([\d.]+) errors=(\d+) lost=(\d+) bytes=(\d+)",
                  out.stdout)
    if not m:
        raise RuntimeError(f"loadgen {mode}: {out.stdout} {out.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return LoadResult(int(m[1]), int(m[2]), float(m[3]), int(m[4]), int(m[5]), int(m[6]), cpu)


def idle_kib(exe: Path, gw: Gateway, n: int, cpus: str | None) -> tuple[float, int]:
    """(KiB RSS per idle connection, bytes lost) with ``n`` connections open."""
    before = rss_kib(gw.pids())
    proc = subprocess.Popen([*taskset(cpus), str(exe), "idle", str(gw.port), str(n)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            preexec_fn=_raise_nofile)
    assert proc.stdout is not None and proc.stdin is not None
    ready = proc.stdout.readline()
    time.sleep(0.5)
    after = rss_kib(gw.pids())
    proc.stdin.close()
    tail = proc.stdout.read()
    proc.wait(60)
    m = re.search(r"errors=(\d+) lost=(\d+)", tail)
    opened = int(ready.split()[1]) if ready.startswith("ready") else 0
    lost = (int(m[1]) * 64 + int(m[2])) if m else n * 64
    return (after - before) / max(opened, 1), lost + (n - opened) * 64


Row = tuple[str, str]  # (measurement key, label)
ROWS: list[Row] = [
    ("new1", "new connections/s, 1 client"),
    ("new8", "new connections/s, 8 clients"),
    ("new64", "new connections/s, 64 clients"),
    ("res8", "resumed connections/s, 8 clients"),
    ("res64", "resumed connections/s, 64 clients"),
    ("cpu_new", "gateway CPU s per 1,000 new connections"),
    ("cpu_res", "gateway CPU s per 1,000 resumed connections"),
    ("client_busy", "load generator CPU use at 8 clients, new (%; 100 = client-bound)"),
    ("bulk1", "bulk MB/s, 1 stream"),
    ("bulk8", "bulk MB/s, 8 streams"),
    ("idle", "KiB RSS per idle connection, 1,000 open"),
    ("lost", "bytes lost"),
]
FLEET_ROWS: list[Row] = [("w_new8", "--workers 2: new connections/s, 8 clients"),
                         ("w_new64", "--workers 2: new connections/s, 64 clients"),
                         ("w_res64", "--workers 2: resumed connections/s, 64 clients")]


def measure_one(name: str, pki: dict[str, str], backend: int, exe: Path, args: argparse.Namespace,
                workdir: Path) -> dict[str, float]:
    gw = start_gateway(name, pki, backend, 1, "0", workdir)
    out: dict[str, float] = {}
    lost = 0
    try:
        loadgen(exe, "new", gw.port, 8, "0.5", "1")  # warm-up
        secs = str(args.seconds)
        wanted = set(args.rows.split(",")) if args.rows else None
        for key, mode, n in (("new1", "new", 1), ("new8", "new", 8), ("new64", "new", 64),
                             ("res8", "resumed", 8), ("res64", "resumed", 64)):
            if wanted is not None and key not in wanted:
                continue
            cpu0 = cpu_seconds(gw.pids())
            r = loadgen(exe, mode, gw.port, n, secs, "1")
            cpu = cpu_seconds(gw.pids()) - cpu0
            out[key] = r.conns / r.seconds
            lost += r.lost + r.errors * 64
            if mode == "resumed" and r.conns and r.reused < 0.9 * r.conns:
                print(f"  note: {name} resumed only {r.reused} of {r.conns}", file=sys.stderr)
            if n == 8:
                out["cpu_new" if mode == "new" else "cpu_res"] = 1000 * cpu / max(r.conns, 1)
                if mode == "new":
                    out["client_cpu"] = 1000 * r.cpu / max(r.conns, 1)
                    out["client_busy"] = 100 * r.cpu / r.seconds
        bulk = ((("bulk1", 1, args.bulk_mb * 10**6), ("bulk8", 8, args.bulk_mb * 10**6 // 8))
                if wanted is None or "bulk" in wanted else ())
        for key, n, size in bulk:
            r = loadgen(exe, "bulk", gw.port, n, str(size), "1")
            out[key] = r.bytes / r.seconds / 1e6
            lost += r.lost + r.errors * size
        if wanted is None or "idle" in wanted:
            kib, idle_lost = idle_kib(exe, gw, args.idle, "1")
            out["idle"] = kib
            lost += idle_lost
        out["lost"] = lost
    finally:
        gw.stop()
    return out


def measure_fleet(name: str, pki: dict[str, str], backend: int, exe: Path, args: argparse.Namespace,
                  workdir: Path) -> dict[str, float]:
    gw = start_gateway(name, pki, backend, 2, None, workdir)
    out: dict[str, float] = {}
    try:
        loadgen(exe, "new", gw.port, 8, "0.5", None)
        for key, mode, n in (("w_new8", "new", 8), ("w_new64", "new", 64), ("w_res64", "resumed", 64)):
            r = loadgen(exe, mode, gw.port, n, str(args.seconds), None)
            out[key] = r.conns / r.seconds
    finally:
        gw.stop()
    return out


def fmt(key: str, value: float | None) -> str:
    if value is None:
        return "-"
    if key.startswith("cpu"):
        return f"{value:.2f}"
    if key == "client_busy":
        return f"{value:.0f}"
    if key == "idle":
        return f"{value:.1f}"
    if key == "lost":
        return f"{int(value):,}"
    return f"{value:,.0f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0, help="seconds per connections/s row")
    ap.add_argument("--bulk-mb", type=int, default=200, help="MB per bulk row (split over the streams)")
    ap.add_argument("--idle", type=int, default=1000, help="idle connections for the memory row")
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--no-fleet", action="store_true", help="skip the --workers 2 rows")
    ap.add_argument("--baseline", metavar="DIR",
                    help="also measure the ferrotls gateway of another tree (its python/ directory; "
                         "one process), as peer 'baseline'")
    ap.add_argument("--rows", help="only these row keys (comma list: new1,new8,new64,res8,res64,"
                                   "bulk,idle)")
    args = ap.parse_args()
    if args.baseline:
        BASELINE[:] = [str(Path(args.baseline).resolve())]
    notes = ensure_packages()
    peers = [p for p in args.peers.split(",") if p]
    if args.baseline and "baseline" not in peers:
        peers.insert(1, "baseline")
    available = {"ferrotls": True, "ferrotls-asyncio": True, "baseline": bool(args.baseline),
                 "stunnel": shutil.which("stunnel4") is not None,
                 "nginx": shutil.which("nginx") is not None and Path(NGINX_STREAM).exists(),
                 "haproxy": shutil.which("haproxy") is not None}
    for p in peers:
        if not available.get(p, False):
            notes.append(f"{p}: not available, skipped")
    peers = [p for p in peers if available.get(p, False)]
    exe, backend_exe = build_tools()
    results: dict[str, list[dict[str, float]]] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="ferrotls-gw-bench-") as tmp:
        workdir = Path(tmp)
        pki = make_pki(workdir)
        backend = subprocess.Popen([*taskset("1"), str(backend_exe), "0"], stdout=subprocess.PIPE,
                                   text=True, preexec_fn=_raise_nofile)
        assert backend.stdout is not None
        bport = int(backend.stdout.readline().split()[1])
        env_path = str(ROOT / "python")
        os.environ["PYTHONPATH"] = env_path + (os.pathsep + os.environ["PYTHONPATH"]
                                               if os.environ.get("PYTHONPATH") else "")
        try:
            for run in range(args.runs):
                order = peers[run % len(peers):] + peers[:run % len(peers)]
                for name in order:
                    print(f"run {run + 1}/{args.runs}: {name}", file=sys.stderr, flush=True)
                    try:
                        results[name].append(measure_one(name, pki, bport, exe, args, workdir))
                    except (RuntimeError, subprocess.SubprocessError) as exc:
                        notes.append(f"round {run + 1}: {name} failed: {exc}")
                        results[name].append({})
                        continue
                if not args.no_fleet:
                    for name in [p for p in ("ferrotls", "nginx") if p in peers][:: 1 if run % 2 == 0 else -1]:
                        print(f"run {run + 1}/{args.runs}: {name} --workers 2", file=sys.stderr, flush=True)
                        try:
                            results[name][-1].update(
                                measure_fleet(name, pki, bport, exe, args, workdir))
                        except (RuntimeError, subprocess.SubprocessError) as exc:
                            notes.append(f"round {run + 1}: {name} --workers 2 failed: {exc}")
                print(report(results, peers, args, [*notes, f"after round {run + 1} of {args.runs}"]),
                      file=sys.stderr, flush=True)
        finally:
            backend.kill()
            backend.wait()
    print(report(results, peers, args, notes))
    return 0


def report(results: dict[str, list[dict[str, float]]], peers: list[str], args: argparse.Namespace,
           notes: list[str]) -> str:
    def med(name: str, key: str) -> float | None:
        values = [r[key] for r in results[name] if key in r]
        if not values:
            return None
        return max(values) if key == "lost" else statistics.median(values)

    ssl_version = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    versions = []
    for tool, cmd in (("stunnel", ["stunnel4", "-version"]), ("nginx", ["nginx", "-v"]),
                      ("haproxy", ["haproxy", "-v"])):
        if tool in peers:
            done = subprocess.run(cmd, capture_output=True, text=True)
            first = (done.stdout + done.stderr).strip().splitlines()
            versions.append(next((ln for ln in first if re.search(r"\d+\.\d+", ln)), tool).strip())
    lines = [
        f"Gateway bench: {platform.node() and 'this machine'}, {os.cpu_count()} CPUs, "
        f"{ssl_version}; {args.runs} rounds, medians (bytes lost: the worst round); "
        f"{args.seconds:g} s per connections/s row; gateway on CPU 0, load generator and backend "
        "on CPU 1 (the --workers 2 rows: all CPUs).",
        "Peers: " + "; ".join(versions) if versions else "",
        "",
    ]
    header = "| measurement | " + " | ".join(peers)
    ratios = [p for p in ("ferrotls-asyncio", "baseline", "stunnel", "nginx")
              if p in peers and "ferrotls" in peers]
    header += "".join(f" | ferrotls/{p}" for p in ratios) + " |"
    lines.append(header)
    lines.append("|---|" + "---:|" * (len(peers) + len(ratios)))
    for key, label in ROWS + ([] if args.no_fleet else FLEET_ROWS):
        cells = [fmt(key, med(p, key)) for p in peers]
        if all(c == "-" for c in cells):
            continue
        row = f"| {label} | " + " | ".join(cells)
        for p in ratios:
            a, b = med("ferrotls", key), med(p, key)
            row += f" | {a / b:.2f}x" if a is not None and b else " | -"
        lines.append(row + " |")
    lines.append("")
    lines += [f"- {n}" for n in notes]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
