"""Reads mutmut's verdicts (./mutants), prints them per module and fails on a real survivor.

A survivor passes only when scripts/mutation_allowlist.txt lists it as equivalent and its diff
still makes the quoted change (mutmut numbers mutants per function, so an edit can move a
number onto another mutant): "+TEXT" is a line it adds, "-TEXT" one it removes without
putting TEXT back. An entry whose mutant is now killed or gone fails too: the list
stays short and true. Run by scripts/mutation.sh after `mutmut run`.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ALLOWLIST = Path(__file__).with_name("mutation_allowlist.txt")
KILLED = {"killed", "timeout", "caught by type check"}  # the tests did not pass: caught


@dataclass(frozen=True)
class Equivalent:
    change: str  # "+TEXT" or "-TEXT", see makes()
    reason: str


def read_allowlist() -> dict[str, Equivalent]:
    entries: dict[str, Equivalent] = {}
    for number, line in enumerate(ALLOWLIST.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, change, reason = (part.strip() for part in line.split(" | ", 2))
        if not (name and change[:1] in "+-" and change[1:] and reason):
            sys.exit(f"{ALLOWLIST.name}:{number}: want 'mutant | change | reason'")
        entries[name] = Equivalent(change, reason)
    return entries


def mutmut(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mutmut", *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def verdicts() -> dict[str, str]:
    """Mutant name -> mutmut's status ("killed", "survived", "no tests", "timeout", ...)."""
    found: dict[str, str] = {}
    for line in mutmut("results", "--all", "true").splitlines():
        name, sep, status = line.strip().partition(": ")
        if sep and ".x" in name:
            found[name] = status
    if not found:
        sys.exit("no mutmut results in ./mutants: run `mutmut run` first")
    return found


def module_of(name: str) -> str:
    """``ankra_auth.security.totp.x_qr_svg__mutmut_3`` -> ``security/totp.py``."""
    module = name.rsplit(".x", 1)[0].removeprefix("ankra_auth.")
    return module.replace(".", "/") + ".py"


def makes(name: str, change: str) -> bool:
    """Whether the mutant's diff adds a line with ``+TEXT``, or drops ``-TEXT`` altogether."""
    changed = [ln for ln in mutmut("show", name).splitlines() if not ln.startswith(("+++", "---"))]
    added = [ln[1:] for ln in changed if ln.startswith("+")]
    removed = [ln[1:] for ln in changed if ln.startswith("-")]
    text = change[1:]
    if change.startswith("+"):
        return any(text in line for line in added)
    return any(text in line for line in removed) and not any(text in line for line in added)


def main() -> int:
    allowlist = read_allowlist()
    results = verdicts()
    problems: list[str] = []
    equivalent: set[str] = set()
    for name, entry in sorted(allowlist.items()):
        status = results.get(name)
        if status != "survived":
            problems.append(f"{name}: allow-listed but {status or 'not a mutant'}; drop the entry")
        elif not makes(name, entry.change):
            problems.append(f"{name}: allow-listed for '{entry.change}', which it does not make")
        else:
            equivalent.add(name)
    real = sorted(n for n, s in results.items() if s not in KILLED and n not in equivalent)

    rows: dict[str, Counter[str]] = defaultdict(Counter)
    for name, status in results.items():
        row = rows[module_of(name)]
        row["mutants"] += 1
        if status in KILLED:
            row["killed"] += 1
        elif name in equivalent:
            row["equivalent"] += 1
        elif status == "survived":
            row["survived"] += 1
        else:
            row["no tests" if status == "no tests" else "other"] += 1
    print_table(rows)

    for name in real:
        print(f"\n{name}: {results[name]}")
        print(mutmut("show", name).rstrip())
    for problem in problems:
        print(problem)
    if real or problems:
        print(
            f"\nmutation check FAILED: {len(real)} mutant(s) not killed, {len(problems)}"
            f" allow-list problem(s). Kill them with a test, or, if the mutant behaves exactly"
            f" like the code, add it to {ALLOWLIST.relative_to(Path.cwd())} with the reason."
        )
        return 1
    print(f"\nmutmut: every mutant killed but {len(equivalent)} allow-listed equivalent ones")
    return 0


def print_table(rows: dict[str, Counter[str]]) -> None:
    columns = ["mutants", "killed", "survived", "equivalent", "no tests", "other"]
    total: Counter[str] = Counter()
    print(f"{'module':<28}" + "".join(f"{c:>11}" for c in columns) + f"{'kill rate':>11}")
    for module in sorted(rows) + ["total"]:
        row = total if module == "total" else rows[module]
        if module != "total":
            total.update(row)
        rate = row["killed"] / max(1, row["mutants"] - row["equivalent"])
        print(f"{module:<28}" + "".join(f"{row[c]:>11}" for c in columns) + f"{rate:>11.1%}")


if __name__ == "__main__":
    sys.exit(main())
