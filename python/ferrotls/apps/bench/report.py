"""What ``ferrotls bench`` prints: the results table, the chart and the progress line.

Every measurement is a :class:`Result`; :func:`print_table` puts the
implementations side by side with their ratio to ``ssl`` (and native/python
when both ran), :func:`write_chart` draws throughput vs write size and
handshakes/s when matplotlib is installed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

__all__ = ["Progress", "Result", "print_table", "write_chart"]


@dataclass(frozen=True)
class Result:
    """One figure: what was measured, by which implementation, in which unit."""

    what: str
    impl: str
    value: float
    unit: str
    size: int = 0
    note: str = ""


class Progress:
    """A one-line text progress bar on stderr."""

    def __init__(self, total: int, width: int = 30) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.width = width
        self.tty = sys.stderr.isatty()

    def step(self, label: str) -> None:
        """Show the bar with ``label`` for the step that starts now."""
        filled = self.width * self.done // self.total
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"[{bar}] {self.done:3d}/{self.total} {label[:48]:<48}"
        if self.tty:
            sys.stderr.write("\r" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
        self.done += 1

    def finish(self) -> None:
        """Show the full bar and end the line."""
        self.done = self.total
        self.step("done")
        if self.tty:
            sys.stderr.write("\n")
        sys.stderr.flush()


def print_table(results: list[Result], out: Any = None) -> None:
    """One line per measurement, one column per implementation, then the ratios to ``ssl``."""
    out = out or sys.stdout
    impls = list(dict.fromkeys(r.impl for r in results))
    rows = list(dict.fromkeys(r.what for r in results))
    by = {(r.what, r.impl): r for r in results}
    head = f"{'measurement':40} {'unit':6}" + "".join(f" {i:>16}" for i in impls)
    ratios = [i for i in impls if i != "ssl"]
    head += "".join(f" {i.removeprefix('ferrotls-') + '/ssl':>12}" for i in ratios)
    if "ferrotls-native" in impls and "ferrotls-python" in impls:
        head += f" {'native/python':>14}"
    print(head, file=out)
    print("-" * len(head), file=out)
    notes: set[str] = set()
    for what in rows:
        unit = next(r.unit for r in results if r.what == what)
        line = f"{what:40} {unit:6}"
        for impl in impls:
            r = by.get((what, impl))
            line += f" {r.value:16,.1f}" if r else f" {'-':>16}"
            if r and r.note:
                notes.add(r.note)
        ref = by.get((what, "ssl"))
        for impl in ratios:
            r = by.get((what, impl))
            line += f" {r.value / ref.value:11.3g}x" if r and ref and ref.value else f" {'-':>12}"
        if "ferrotls-native" in impls and "ferrotls-python" in impls:
            n, p = by.get((what, "ferrotls-native")), by.get((what, "ferrotls-python"))
            line += f" {n.value / p.value:13.3g}x" if n and p and p.value else f" {'-':>14}"
        print(line, file=out)
    for note in sorted(notes):
        print(f"note: ssl rows use the {note} (ctypes SSL_CTX_set_ciphersuites unavailable)", file=out)


def write_chart(results: list[Result], path: str) -> bool:
    """Throughput vs write size (AES-128-GCM) and handshakes/s; False without matplotlib."""
    try:
        import matplotlib  # type: ignore[import-not-found, unused-ignore]

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return False
    impls = list(dict.fromkeys(r.impl for r in results))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    for impl in impls:
        pts = sorted((r.size, r.value) for r in results
                     if r.impl == impl and r.what.startswith("bulk AES-128-GCM"))
        if pts:
            ax1.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=impl)
    ax1.set_xscale("log", base=2)
    ax1.set_yscale("log")
    ax1.set_xlabel("write size (bytes)")
    ax1.set_ylabel("MB/s (AES-128-GCM, in memory)")
    ax1.set_title("Throughput vs record size")
    ax1.legend()
    hs = [(r.impl, r.value) for r in results if r.unit == "hs/s"]
    ax2.bar([h[0] for h in hs], [h[1] for h in hs], color=["C0", "C1", "C2", "C3"][: len(hs)])
    ax2.set_ylabel("handshakes/s")
    ax2.set_title("Full handshakes per second")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True