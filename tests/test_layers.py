"""The arrows between packages point one way: HTTP glue on top, then sign-in, then the
factors, then accounts (users, sessions, throttles), read from the source's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "ankra_auth"

# Request and response glue: routers, pages, the shared dependencies and the few helpers
# that take a Request. Everything else is a service module and must not import these.
HTTP_PACKAGES = {"api", "web", "api_docs"}
HTTP_MODULES = {"signin.answers", "signin.cookies", "sso.pending", "sso.browser", "sso.cli"}
TOP = {"app", "__main__", "admin", "startup", "health", "graceful", "migrate", "observability"}

# What each floor may not reach: the packages above it.
ABOVE = {
    "accounts": {"challenges", "totp", "recovery_codes", "passkeys", "orgs", "signin", "sso"},
    "challenges": {"totp", "recovery_codes", "passkeys", "signin", "sso", "cli_handoff"},
    "totp": {"signin", "sso", "cli_handoff"},
    "recovery_codes": {"signin", "sso", "cli_handoff"},
    "passkeys": {"signin", "sso", "cli_handoff"},
    "signin": {"cli_handoff"},
}


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")


def _is_module(name: str) -> bool:
    path = SRC.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _imports(path: Path) -> set[str]:
    """Our modules it imports; ``from ankra_auth.x import y`` counts ``x.y`` when y is one."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module != "ankra_auth" and not node.module.startswith("ankra_auth."):
                continue
            base = node.module.removeprefix("ankra_auth").removeprefix(".")
            for alias in node.names:
                name = f"{base}.{alias.name}" if base else alias.name
                found.add(name if _is_module(name) else base)
        elif isinstance(node, ast.Import):
            found.update(
                a.name.removeprefix("ankra_auth.")
                for a in node.names
                if a.name.startswith("ankra_auth.")
            )
    return found


def _is_http(module: str) -> bool:
    parts = module.split(".")
    return (
        parts[0] in HTTP_PACKAGES
        or module in HTTP_MODULES
        or parts[-1] in ("router", "pages")
        or parts[-1].endswith("_router")
    )


def _floor(module: str) -> str:
    """A module's package; but tables, and modules that import nothing of ours (such as
    ``sso.config``, read by the settings), are the ground floor and stand alone."""
    parts = module.split(".")
    return module if parts[-1] == "models" or not MODULES.get(module, True) else parts[0]


MODULES = {_module_name(p): _imports(p) for p in SRC.rglob("*.py") if "migrations" not in p.parts}
SERVICES = {
    m: deps for m, deps in MODULES.items() if not _is_http(m) and m.split(".")[0] not in TOP
}


def test_services_never_import_http_glue() -> None:
    wrong = sorted((m, d) for m, deps in SERVICES.items() for d in deps if _is_http(d))
    assert wrong == []


@pytest.mark.parametrize("floor", sorted(ABOVE))
def test_a_floor_never_reaches_up(floor: str) -> None:
    wrong = sorted(
        (m, d)
        for m, deps in SERVICES.items()
        if m.split(".")[0] == floor
        for d in deps
        if d.split(".")[0] in ABOVE[floor] and not d.endswith(".models")
    )
    assert wrong == []


def test_service_packages_have_no_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for module, deps in SERVICES.items():
        edges = {_floor(d) for d in deps if not _is_http(d)} - {_floor(module)}
        graph.setdefault(_floor(module), set()).update(edges)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    cycles = sorted((a, b) for a, bs in graph.items() for b in bs if reaches(b, a))
    assert cycles == []
