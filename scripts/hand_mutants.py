"""Mutants mutmut cannot make: module constants and functions under a decorator.

mutmut 3 mutates only undecorated functions, so ``keys.derive_key`` (under ``lru_cache``),
the argon2 parameters and the alphabets are out of its reach. Each mutant here changes one
piece of text in a temporary copy of src/ and runs the fast tests pyproject.toml gives mutmut
([tool.mutmut] pytest_add_cli_args and pytest_add_cli_args_test_selection) against it, in a
process forked from one that imported the libraries once; they must fail. A text that is no
longer in the source fails too, so a mutant cannot silently stop applying.
Run by scripts/mutation.sh; exits non-zero when a mutant survives.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # under src/ankra_auth/
    old: str
    new: str


MUTANTS = [
    Mutant("derive_key: purpose dropped", "security/keys.py", "info=purpose.encode()", 'info=b""'),
    Mutant("derive_key: 128-bit keys", "security/keys.py", "length=32", "length=16"),
    Mutant("derive_key: a salt", "security/keys.py", "salt=None", 'salt=b"ankra"'),
    Mutant(
        "derive_key: SHA-512",
        "security/keys.py",
        "algorithm=hashes.SHA256()",
        "algorithm=hashes.SHA512()",
    ),
    Mutant("seal: a fixed nonce", "security/secretbox.py", "os.urandom(12)", "bytes(12)"),
    Mutant(
        "totp: == instead of compare_digest",
        "security/totp.py",
        "if hmac.compare_digest(_code(key, step), normalized):",
        "if _code(key, step) == normalized:",
    ),
    Mutant(
        "totp: stops at the first match",
        "security/totp.py",
        "            found = step\n",
        "            found = step\n            break\n",
    ),
    Mutant("totp: spaces refused", "security/totp.py", '"".join(code.split())', "code"),
    Mutant("totp: two steps of drift", "security/totp.py", "DRIFT_STEPS = 1", "DRIFT_STEPS = 2"),
    Mutant("totp: 80-bit secrets", "security/totp.py", "length=32", "length=16"),
    Mutant(
        "pkce: == instead of compare_digest",
        "security/pkce.py",
        "hmac.compare_digest(s256_challenge(verifier), challenge)",
        "s256_challenge(verifier) == challenge",
    ),
    Mutant("pkce: a final A cut", "security/pkce.py", 'rstrip(b"=")', 'rstrip(b"=A")'),
    Mutant(
        "recovery codes: Z dropped",
        "security/recovery_codes.py",
        '"0123456789ABCDEFGHJKMNPQRSTVWXYZ"',
        '"0123456789ABCDEFGHJKMNPQRSTVWXY"',
    ),
    Mutant(
        "recovery codes: I added",
        "security/recovery_codes.py",
        '"0123456789ABCDEFGHJKMNPQRSTVWXYZ"',
        '"0123456789ABCDEFGHIJKMNPQRSTVWXYZ"',
    ),
    Mutant(
        "recovery codes: normalize strips X",
        "security/recovery_codes.py",
        'ch not in "- \\t"',
        'ch not in "- \\tX"',
    ),
    Mutant(
        "recovery codes: U read as V",
        "security/recovery_codes.py",
        '"L": "1"}',
        '"L": "1", "U": "V"}',
    ),
    Mutant(
        "recovery codes: 8 characters",
        "security/recovery_codes.py",
        "CODE_LENGTH = 10",
        "CODE_LENGTH = 8",
    ),
    Mutant(
        "recovery codes: 9 a set", "security/recovery_codes.py", "SET_SIZE = 10", "SET_SIZE = 9"
    ),
    Mutant(
        "argon2: 4 MiB", "security/passwords.py", "memory_cost=19 * 1024", "memory_cost=4 * 1024"
    ),
    Mutant("argon2: 1 iteration", "security/passwords.py", "time_cost=2", "time_cost=1"),
    Mutant(
        "argon2: 8-byte salts",
        "security/passwords.py",
        "parallelism=1)",
        "parallelism=1, salt_len=8)",
    ),
    Mutant(
        "argon2: pool ignores the bound",
        "security/passwords.py",
        "ThreadPoolExecutor(max_workers=limit,",
        "ThreadPoolExecutor(max_workers=2,",
    ),
    Mutant("tokens: 128 bits", "security/tokens.py", "token_urlsafe(32)", "token_urlsafe(16)"),
    Mutant(
        "webauthn: 2048-byte credential ids",
        "security/webauthn.py",
        "MAX_CREDENTIAL_ID = 1023",
        "MAX_CREDENTIAL_ID = 2048",
    ),
    Mutant(
        "backoff: 11 free failures",
        "accounts/backoff.py",
        "FREE_FAILURES = 10",
        "FREE_FAILURES = 11",
    ),
    Mutant(
        "backoff: first 2 minutes",
        "accounts/backoff.py",
        "timedelta(minutes=1)",
        "timedelta(minutes=2)",
    ),
    Mutant(
        "backoff: capped at 2 hours",
        "accounts/backoff.py",
        "timedelta(hours=1)",
        "timedelta(hours=2)",
    ),
]


# Imported once before forking, so each mutant's run pays only for our own modules. Speed
# only: a module missing here is imported by the run itself. Nothing of ankra_auth, which
# each run must import from its own mutated copy.
PRELOAD = [
    "alembic",
    "argon2",
    "authlib",
    "cbor2",
    "cryptography.hazmat.primitives.ciphers.aead",
    "cryptography.hazmat.primitives.kdf.hkdf",
    "email_validator",
    "fastapi",
    "fastapi.testclient",
    "hypothesis",
    "httpx",
    "jinja2",
    "prometheus_client",
    "psycopg",
    "psycopg_pool",
    "pydantic",
    "pydantic_settings",
    "pyotp",
    "pytest",
    "segno",
    "sqlalchemy",
    "sqlalchemy.orm",
    "playwright.sync_api",  # tests/chromium.py, conftest's plugin
    "ua_parser",
    "uvicorn",
    "webauthn",
]


def fast_tests() -> list[str]:
    """pytest's arguments as mutmut gets them: its options, then the test selection."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    options: list[str] = config.get("pytest_add_cli_args", [])
    tests: list[str] = config["pytest_add_cli_args_test_selection"]
    return options + tests


def copy_tree(source: Path, into: Path) -> Path:
    """src/, tests/ and pyproject.toml; bytecode too (copy2 keeps the times that validate it)."""
    ignore = shutil.ignore_patterns("*.egg-info", "node_modules", "pytest.log")
    for part in ("src", "tests"):
        shutil.copytree(source / part, into / part, ignore=ignore)
    shutil.copy2(source / "pyproject.toml", into / "pyproject.toml")
    return into


def start_tests(tree: Path, tests: list[str], log: Path, *, write_bytecode: bool) -> int:
    """Fork a child that runs the fast tests against ``tree``'s src/; returns its pid.

    The child's exit code is pytest's (0 passed, 1 failed), or 3 when it imported ankra_auth
    from anywhere but ``tree`` (the installed, editable copy would judge the wrong code).
    """
    pid = os.fork()
    if pid:
        return pid
    code = 3
    try:
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.chdir(tree)
        sys.path[:0] = [str(tree / "src"), str(tree)]
        sys.dont_write_bytecode = not write_bytecode
        import pytest

        # Preloaded plugins cannot have their asserts rewritten; pytest's warning says only that.
        quiet = ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
        code = int(pytest.main(["-x", "-q", "-p", "no:cacheprovider", *quiet, *tests]))
        imported = getattr(sys.modules.get("ankra_auth.security"), "__file__", "")
        if not str(imported).startswith(str(tree)):
            print(f"ankra_auth.security came from {imported}, not from {tree}")
            code = 3
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_all(
    trees: list[Path], tests: list[str], workers: int, *, write_bytecode: bool = False
) -> list[str]:
    """Each tree's verdict, at most ``workers`` runs at a time."""
    verdicts = [""] * len(trees)
    running: dict[int, int] = {}  # pid -> index
    queue = list(enumerate(trees))
    while queue or running:
        while queue and len(running) < workers:
            index, tree = queue.pop(0)
            log = tree / "pytest.log"
            running[start_tests(tree, tests, log, write_bytecode=write_bytecode)] = index
        pid, status = os.wait()
        index = running.pop(pid)
        code = os.waitstatus_to_exitcode(status)
        # 1: the tests ran and failed. Anything else but 0 means they never judged the code.
        verdicts[index] = {0: "SURVIVED", 1: "killed"}.get(code, f"ERROR ({code})")
    return verdicts


def main() -> int:
    tests = fast_tests()
    started = time.monotonic()
    plugins = [entry.module for entry in entry_points(group="pytest11")]  # pytest loads them all
    for module in PRELOAD + plugins:
        importlib.import_module(module)
    if any(name.startswith("ankra_auth") for name in sys.modules):
        sys.exit("hand mutants: a preloaded module imported ankra_auth; the runs would share it")
    with tempfile.TemporaryDirectory(prefix="ankra-mutants-") as tmp:
        # The unmutated code first, alone: it must pass, and the bytecode it leaves (modules,
        # rewritten tests) is copied with each mutant's tree, which then compiles one file.
        unmutated = copy_tree(ROOT, Path(tmp) / "unmutated")
        [clean] = run_all([unmutated], tests, workers=1, write_bytecode=True)
        if clean != "SURVIVED":
            print((unmutated / "pytest.log").read_text()[-3000:])
            print(f"hand mutants: the fast tests do not pass on the unmutated copy: {clean}")
            return 1
        problems: list[str] = []
        jobs: list[tuple[Mutant, Path]] = []
        for number, mutant in enumerate(MUTANTS):
            tree = copy_tree(unmutated, Path(tmp) / str(number))
            target = tree / "src" / "ankra_auth" / mutant.path
            source = target.read_text()
            if source.count(mutant.old) != 1:
                problems.append(
                    f"  NOT APPLIED {mutant.name}: {mutant.old!r} not once in {mutant.path}"
                )
                continue
            target.write_text(source.replace(mutant.old, mutant.new))
            for stale in target.parent.glob(f"__pycache__/{target.stem}.*.pyc"):
                stale.unlink()  # never judge the unmutated bytecode
            jobs.append((mutant, tree))
        verdicts = run_all([tree for _, tree in jobs], tests, workers=os.cpu_count() or 2)
        for (mutant, tree), verdict in zip(jobs, verdicts, strict=True):
            print(f"  {verdict:<11} {mutant.path:<28} {mutant.name}")
            if verdict != "killed":
                tail = (tree / "pytest.log").read_text().strip().splitlines()[-5:]
                problems.append(f"  {verdict} {mutant.name}:\n    " + "\n    ".join(tail))
    for problem in problems:
        print(problem)
    killed = len(MUTANTS) - len(problems)
    print(f"hand mutants: {killed} of {len(MUTANTS)} killed ({time.monotonic() - started:.0f} s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
