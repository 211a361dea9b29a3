"""The printed table of a run, and its targets (issue 27's): met or missed, and by what."""

from __future__ import annotations

import statistics
from typing import Any

from paths import LABELS, PATHS

Check = tuple[str, bool, str]
PEER_LABELS = {"allauth": "django-allauth: POST .../2fa/authenticate"}


def median_of(rounds: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in rounds))


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


def _row(label: str, r: dict[str, Any], reference: float) -> tuple[str, ...]:
    return (
        label,
        f"{r['rps']:,.0f}",
        f"{r['rps'] / reference:.3f}",
        f"{r['p50_ms']:.1f}",
        f"{r['p99_ms']:.1f}",
        f"{r['cpu_ms_per_req']:.2f}",
        f"{r.get('db_cpu_ms_per_req', 0):.2f}",
        f"{r['peak_rss_mb']:.0f}",
        str(r["errors"]),
    )


def side_by_side_rows(res: dict[str, Any]) -> list[tuple[str, ...]]:
    ref = res["bare"]["rps"]
    rows = [
        ("path", "req/s", "x ref", "p50 ms", "p99 ms", "CPU ms/req", "DB CPU", "peak RSS MB")
        + ("errors",)
    ]
    for name in ("bare", "bare_sync", *PATHS):
        if name in res:
            rows.append(_row(LABELS[name], res[name], ref))
    for workers, r in sorted(res.get("workers", {}).items()):
        rows.append(_row(f"POST /auth/mfa/totp, {workers} workers", r, ref))
    if "pgbouncer" in res:
        rows.append(_row("POST /auth/mfa/totp through PgBouncer", res["pgbouncer"], ref))
    for name, r in res.get("peers", {}).items():
        rows.append(_row(PEER_LABELS[name], r, ref))
    return rows


def report_side_by_side(res: dict[str, Any]) -> None:
    print(
        f"\n{res['users']:,} users, PostgreSQL, 1 worker each unless said, wrk -c{res['clients']}"
        ", x ref = req/s over the async reference's"
    )
    print(table(side_by_side_rows(res)))
    for name, peer in res.get("peer_versions", {}).items():
        print(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in peer.items()))
    for name, counted in res.get("peer_round_trips", {}).items():
        print(
            f"  {name}, one second step: {counted['statements']} statements, "
            f"{counted['round_trips']} round trips, {counted['commits']} commits"
        )


def report_cli(res: dict[str, Any]) -> float:
    """Print the CLI figures; returns the median."""
    runs = res["cli_status_seconds"]
    if isinstance(runs, list):  # an older run's JSON: piped only
        runs = {"piped": runs}
    for mode, cli in runs.items():
        print(
            f"ankra profile auth status, {mode}: median {statistics.median(cli):.3f} s, "
            f"best {min(cli):.3f} s ({len(cli)} runs)"
        )
    cli_median = float(statistics.median(runs["piped"]))
    if "python_startup_seconds" in res:
        floor = res["python_startup_seconds"]
        print(
            f"  python -c pass on this machine: median {statistics.median(floor):.3f} s, "
            f"best {min(floor):.3f} s"
        )
    return cli_median


def side_by_side_checks(res: dict[str, Any]) -> list[Check]:
    ref, t = res["bare"]["rps"], res.get("totp")
    if t is None:  # a run of other paths only (--paths)
        return []
    ratio = t["rps"] / ref
    checks: list[Check] = [
        ("TOTP >= 0.22 x the async reference (aim 0.30)", ratio >= 0.22, f"{ratio:.3f}"),
        ("TOTP p99 <= 45 ms", t["p99_ms"] <= 45, f"{t['p99_ms']:.1f} ms"),
        ("TOTP <= 0.6 ms server CPU", t["cpu_ms_per_req"] <= 0.6, f"{t['cpu_ms_per_req']:.2f} ms"),
    ]
    for name in PATHS[1:]:
        if name in res:
            r = res[name]
            checks.append(
                (
                    f"{name} >= 0.15 x the async reference",
                    r["rps"] / ref >= 0.15,
                    f"{r['rps'] / ref:.3f}",
                )
            )
            checks.append((f"{name} p99 <= 80 ms", r["p99_ms"] <= 80, f"{r['p99_ms']:.1f} ms"))
    peak = max(res[name]["peak_rss_mb"] for name in PATHS if name in res)
    checks.append(("RSS <= 150 MB per worker", peak <= 150, f"{peak:.0f} MB"))
    for workers, r in sorted(res.get("workers", {}).items()):
        gain = r["rps"] / t["rps"]
        checks.append((f"TOTP, {workers} workers >= 1.5 x one", gain >= 1.5, f"x{gain:.2f}"))
    if "pgbouncer" in res:
        kept = res["pgbouncer"]["rps"] / t["rps"]
        checks.append(("TOTP through PgBouncer >= 0.8 x direct", kept >= 0.8, f"x{kept:.2f}"))
    if "allauth" in res.get("peers", {}):
        peer = res["peers"]["allauth"]
        faster = t["rps"] / peer["rps"]
        cpu = peer["cpu_ms_per_req"] / t["cpu_ms_per_req"]
        checks.append(("TOTP >= 12 x allauth's req/s", faster >= 12, f"x{faster:.1f}"))
        checks.append(("TOTP <= 1/15 of allauth's CPU", cpu >= 15, f"1/{cpu:.1f}"))
    return checks


def report(res: dict[str, Any]) -> list[Check]:
    """Print the table of record; returns the targets as (name, met, figure)."""
    report_side_by_side(res)
    checks = side_by_side_checks(res)

    small, big = res["scaling_small"], res["scaling_big"]
    p50_small, p50_big = median_of(small["rounds"], "p50_ms"), median_of(big["rounds"], "p50_ms")
    growth = p50_big / p50_small
    print(
        f"\nTOTP p50, median of {len(small['rounds'])} rounds of {small['users']:,}: "
        f"{p50_small:.1f} ms at {small['users']:,} users, {p50_big:.1f} ms at "
        f"{big['users']:,} users: x{growth:.2f}"
    )
    for r in (small, big):
        print(
            f"  rounds at {r['users']:,}: " + ", ".join(f"{x['p50_ms']:.1f}" for x in r["rounds"])
        )
    for name, label in (("storm", "default malloc"), ("storm_arena2", "MALLOC_ARENA_MAX=2")):
        s = res[name]
        print(
            f"Password storm, {s['answered']} answered ({label}): {s['rps']:.1f} logins/s, "
            f"p50 {s['p50_ms']:.0f} ms, p99 {s['p99_ms']:.0f} ms, "
            f"peak RSS {s['peak_rss_mb']:.0f} MB, statuses {s['statuses']}"
        )
    cli_median = report_cli(res)
    storm = res["storm"]
    checks += [
        (
            f"p50 at {big['users']:,} <= 1.1 x at {small['users']:,}",
            growth <= 1.1,
            f"x{growth:.2f}",
        ),
        (
            f"storm of {storm['answered']}: all answered 200, under 300 MB",
            storm["statuses"] == {"200": res["storm_size"]} and storm["peak_rss_mb"] < 300,
            f"{storm['statuses']}, {storm['peak_rss_mb']:.0f} MB",
        ),
        ("CLI status <= 0.2 s median", cli_median <= 0.2, f"{cli_median:.3f} s"),
    ]
    print_checks(checks)
    return checks


def print_checks(checks: list[Check]) -> None:
    print("\nTargets:")
    for name, ok, figure in checks:
        print(f"  {'met ' if ok else 'MISS'}  {name}: {figure}")
