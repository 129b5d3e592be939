"""The dependency rule (docs/architecture.md): each package calls only the packages below
it, and only through their `service` module; core knows no domain package except in the
wiring at the top (the app factory, the CLI, the demo)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Each domain package and the domain packages it may call (through their service).
BELOW = {
    "audit": set(),
    "registration": {"audit"},
    "polling": {"registration", "audit"},
    "tally": {"polling", "registration", "audit"},
}
WIRING = {"ocv.app", "ocv.cli", "ocv.demo"}  # above every domain package


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every module the file imports, `from a import b` as `a.b`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _violation(importer: str, imported: str) -> str | None:
    package, target = importer.split(".")[0], imported.split(".")[0]
    if importer in WIRING or target == package or target not in {"ocv", *BELOW}:
        return None
    if target == "ocv":
        top = ".".join(imported.split(".")[:2])
        return f"imports the wiring {top}" if top in WIRING else None
    if package == "ocv":
        return f"core imports the domain package {target}"
    if target not in BELOW[package]:
        return f"{package} may not call {target} (it is not below it)"
    if not (imported == f"{target}.service" or imported.startswith(f"{target}.service.")):
        return f"imports {imported}: other packages are reached through {target}.service only"
    return None


def test_every_import_keeps_the_dependency_rule() -> None:
    problems = []
    for package in ("ocv", *BELOW):
        for path in sorted((ROOT / package).rglob("*.py")):
            importer = _module(path)
            for line, imported in _imports(path):
                problem = _violation(importer, imported)
                if problem:
                    problems.append(f"{path.relative_to(ROOT)}:{line}: {problem}")
    assert not problems, "\n".join(problems)


def test_the_rule_refuses_what_it_should() -> None:
    assert _violation("registration.views", "audit.merkle") is not None
    assert _violation("audit.service", "registration.service") is not None
    assert _violation("ocv.web", "registration.service") is not None
    assert _violation("registration.api", "ocv.cli") is not None
    assert _violation("tally.service", "polling.service") is None
    assert _violation("ocv.app", "registration.views") is None


def test_forms_live_in_forms_modules() -> None:
    """A WTForms class is defined in its package's forms.py, never inside views or APIs."""
    bases = {"FlaskForm", "Form"}
    misplaced = []
    for package in ("ocv", *BELOW):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "forms.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef) and any(
                    (isinstance(b, ast.Name) and b.id in bases)
                    or (isinstance(b, ast.Attribute) and b.attr in bases)
                    for b in node.bases
                ):
                    misplaced.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.name}")
    assert not misplaced, "\n".join(misplaced)
