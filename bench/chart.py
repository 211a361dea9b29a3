"""Draw docs/performance.png from the JSON files that ``bench/run.py --json`` wrote.

python bench/chart.py docs/bench-run1.json docs/bench-run2.json -o docs/performance.png
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/performance.png"))
    args = parser.parse_args()
    runs: list[dict[str, Any]] = [json.loads(p.read_text()) for p in args.runs]
    labels = [f"run {i + 1}" for i in range(len(runs))]
    width = 0.8 / len(runs)

    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    (ratio_ax, lat_ax), (scale_ax, mem_ax) = axes

    groups = ["SQLite", "PostgreSQL", "PostgreSQL 1M users"]
    for i, run in enumerate(runs):
        pairs = [
            (run.get("sqlite", {}).get("verify"), run.get("sqlite", {}).get("bare")),
            (run["postgresql"]["verify"], run["postgresql"]["bare"]),
            (run["postgresql"]["verify_big"], run["postgresql"]["bare_big"]),
        ]
        ratios = [v["rps"] / b["rps"] if v and b else 0 for v, b in pairs]
        xs = [g + i * width for g in range(len(groups))]
        bars = ratio_ax.bar(xs, ratios, width, label=labels[i])
        ratio_ax.bar_label(bars, fmt="%.3f", fontsize=8)
    ratio_ax.axhline(0.06, color="red", linestyle="--", linewidth=1, label="target 0.06")
    ratio_ax.axhline(0.08, color="orange", linestyle=":", linewidth=1, label="aim 0.08")
    ratio_ax.set_xticks([g + width * (len(runs) - 1) / 2 for g in range(len(groups))], groups)
    ratio_ax.set_title("TOTP verify throughput / GET /healthz throughput (32 clients, 1 worker)")
    ratio_ax.legend(fontsize=8)

    for i, run in enumerate(runs):
        pg = run["postgresql"]
        vals = [
            pg["verify"]["p50_ms"],
            pg["verify"]["p99_ms"],
            pg["bare"]["p50_ms"],
            pg["bare"]["p99_ms"],
        ]
        xs = [g + i * width for g in range(4)]
        bars = lat_ax.bar(xs, vals, width, label=labels[i])
        lat_ax.bar_label(bars, fmt="%.0f", fontsize=8)
    lat_ax.axhline(150, color="red", linestyle="--", linewidth=1, label="p99 target 150 ms")
    lat_ax.set_xticks(
        [g + width * (len(runs) - 1) / 2 for g in range(4)],
        ["verify p50", "verify p99", "healthz p50", "healthz p99"],
    )
    lat_ax.set_ylabel("ms")
    lat_ax.set_title("Latency on PostgreSQL, 32 clients")
    lat_ax.legend(fontsize=8)

    for i, run in enumerate(runs):
        pg = run["postgresql"]
        small = statistics.median(r["p50_ms"] for r in pg["scaling_small"]["rounds"])
        big = statistics.median(r["p50_ms"] for r in pg["scaling_big"]["rounds"])
        xs = [g + i * width for g in range(2)]
        bars = scale_ax.bar(xs, [small, big], width, label=f"{labels[i]}: x{big / small:.2f}")
        scale_ax.bar_label(bars, fmt="%.0f", fontsize=8)
    first = runs[0]["postgresql"]
    scale_ax.set_xticks(
        [g + width * (len(runs) - 1) / 2 for g in range(2)],
        [f"{first['scaling_small']['users']:,} users", f"{first['scaling_big']['users']:,} users"],
    )
    scale_ax.set_ylabel("p50 ms (median of rounds)")
    scale_ax.set_title("TOTP verify p50 by table size (target: at most x1.2)")
    scale_ax.legend(fontsize=8)

    for i, run in enumerate(runs):
        pg = run["postgresql"]
        vals = [
            pg["verify"]["peak_rss_mb"],
            pg["storm"]["peak_rss_mb"],
            pg["storm_arena2"]["peak_rss_mb"],
        ]
        xs = [g + i * width for g in range(3)]
        bars = mem_ax.bar(xs, vals, width, label=labels[i])
        mem_ax.bar_label(bars, fmt="%.0f", fontsize=8)
    mem_ax.axhline(150, color="orange", linestyle=":", linewidth=1, label="150 MB (verify target)")
    mem_ax.axhline(300, color="red", linestyle="--", linewidth=1, label="300 MB (storm target)")
    mem_ax.set_xticks(
        [g + width * (len(runs) - 1) / 2 for g in range(3)],
        ["verify load", "200-login storm", "storm with\nMALLOC_ARENA_MAX=2"],
    )
    mem_ax.set_ylabel("peak RSS, MB")
    mem_ax.set_title("Server memory (1 worker)")
    mem_ax.legend(fontsize=8)

    fig.suptitle(
        "Ankra Auth benchmark (2-core machine shared with other work; see docs/performance.md)"
    )
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
