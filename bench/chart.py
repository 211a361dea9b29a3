"""Draw docs/performance.png from the JSON files that ``bench/run.py --json`` wrote.

python bench/chart.py docs/performance-run.json -o docs/performance.png
python bench/chart.py before.json after.json --labels before after -o /tmp/compare.png
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PATHS = ("totp", "recovery", "passkey", "passkey_alone")
NAMES = ("TOTP", "recovery code", "passkey\n(2nd step)", "passkey\nalone")


def grouped(ax: Any, runs: list[dict[str, Any]], labels: list[str], values: Any, fmt: str) -> None:
    """One bar group per x position, one bar per run."""
    width = 0.8 / len(runs)
    for i, (run, label) in enumerate(zip(runs, labels, strict=True)):
        vals = values(run)
        bars = ax.bar([g + i * width for g in range(len(vals))], vals, width, label=label)
        ax.bar_label(bars, fmt=fmt, fontsize=8)


def ticks(ax: Any, runs: list[dict[str, Any]], names: list[str]) -> None:
    width = 0.8 / len(runs)
    # Small enough that two-line names ("recovery code\np99") do not run into each other.
    ax.set_xticks([g + width * (len(runs) - 1) / 2 for g in range(len(names))], names, fontsize=8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--labels", nargs="+", help="one per run (default: its start time)")
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/performance.png"))
    args = parser.parse_args()
    runs: list[dict[str, Any]] = [json.loads(p.read_text()) for p in args.runs]
    labels = args.labels or [r["started"] for r in runs]

    fig, ((ratio_ax, lat_ax), (cpu_ax, mem_ax)) = plt.subplots(2, 2, figsize=(12, 8.5))

    grouped(ratio_ax, runs, labels, lambda r: [r.get(p, {}).get("ratio", 0) for p in PATHS], "%.3f")
    ratio_ax.axhline(0.22, color="red", linestyle="--", linewidth=1, label="TOTP target 0.22")
    ratio_ax.axhline(0.15, color="orange", linestyle=":", linewidth=1, label="others 0.15")
    ticks(ratio_ax, runs, list(NAMES))
    ratio_ax.set_title("req/s as a fraction of the async FastAPI reference")
    ratio_ax.legend(fontsize=8)

    grouped(
        lat_ax,
        runs,
        labels,
        lambda r: [r.get(p, {}).get(k, 0) for p in PATHS for k in ("p50_ms", "p99_ms")],
        "%.0f",
    )
    lat_ax.axhline(45, color="red", linestyle="--", linewidth=1, label="TOTP p99 target 45 ms")
    lat_ax.axhline(80, color="orange", linestyle=":", linewidth=1, label="others' p99 80 ms")
    ticks(lat_ax, runs, [f"{n}\n{k}" for n in NAMES for k in ("p50", "p99")])
    lat_ax.set_ylabel("ms")
    lat_ax.set_title("Latency at 32 connections (wrk)")
    lat_ax.legend(fontsize=8)

    def scaling(r: dict[str, Any]) -> list[float]:
        return [
            statistics.median(x["p50_ms"] for x in r[key]["rounds"])
            for key in ("scaling_small", "scaling_big")
        ]

    grouped(
        cpu_ax,
        runs,
        labels,
        lambda r: [r.get(p, {}).get("cpu_ms_per_req", 0) for p in ("bare", *PATHS)],
        "%.2f",
    )
    cpu_ax.axhline(0.6, color="red", linestyle="--", linewidth=1, label="TOTP target 0.6 ms")
    ticks(cpu_ax, runs, ["async\nreference", *NAMES])
    cpu_ax.set_ylabel("ms of server CPU per request")
    cpu_ax.set_title("Server CPU per request (/proc/PID/stat)")
    cpu_ax.legend(fontsize=8)

    grouped(
        mem_ax,
        runs,
        labels,
        lambda r: [
            max(r[p]["peak_rss_mb"] for p in PATHS if p in r),
            r["storm"]["peak_rss_mb"],
            r["storm_arena2"]["peak_rss_mb"],
            *scaling(r),
        ],
        "%.0f",
    )
    mem_ax.axhline(150, color="orange", linestyle=":", linewidth=1, label="150 MB")
    mem_ax.axhline(300, color="red", linestyle="--", linewidth=1, label="300 MB (storm)")
    first = runs[0]
    ticks(
        mem_ax,
        runs,
        [
            "RSS MB\nsign-ins",
            "RSS MB\nstorm",
            "RSS MB storm\nARENA_MAX=2",
            f"TOTP p50 ms\n{first['scaling_small']['users']:,} users",
            f"TOTP p50 ms\n{first['scaling_big']['users']:,} users",
        ],
    )
    mem_ax.set_title("Peak RSS (1 worker); TOTP p50 by table size")
    mem_ax.legend(fontsize=8)

    fig.suptitle(f"Ankra Auth benchmark: {first['command']} ({first['machine']})")
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
