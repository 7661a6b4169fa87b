"""The shape we agreed on: handlers and domain packages never touch a messenger library."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "localbot"
MESSENGER_LIBRARIES = {"telegram", "twilio"}
#: Everything except the adapters (and the process wiring that starts them) must stay messenger-neutral.
NEUTRAL = [p for p in PACKAGE.rglob("*.py") if "adapters" not in p.relative_to(PACKAGE).parts and p.name not in ("runtime.py", "cli.py")]


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_handlers_and_domain_packages_do_not_import_messenger_libraries() -> None:
    checked = [p for p in NEUTRAL if "handlers" in p.parts or p.parent != PACKAGE]
    assert any("handlers" in p.parts for p in checked) and any("polls" in p.parts for p in checked)
    offenders = {str(p.relative_to(PACKAGE)): imported_roots(p) & MESSENGER_LIBRARIES for p in NEUTRAL}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_check_would_catch_an_offender(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("import telegram.ext\nfrom twilio.rest import Client\n")
    assert imported_roots(sample) == {"telegram", "twilio"}


def test_domain_packages_do_not_import_handlers_or_adapters() -> None:
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        if parts[0] in ("polls", "maps", "tastings", "surveys", "community", "export") and len(parts) > 1:
            source = path.read_text()
            assert "localbot.handlers" not in source and "localbot.adapters" not in source, path
