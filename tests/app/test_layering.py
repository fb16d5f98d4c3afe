"""The house's layering, read from the source: controllers are thin and pages stand alone.

- No page module imports another domain's pages or any api module: what pages share (dependency
  aliases, query shapes, helpers) lives in services, schemas or web helpers.
- No controller (pages or api) commits or writes the audit trail: services do, and the request's
  transaction is finished in marketplace/db.py.
- No controller decides a permission by role (`principal.require(*ROLES)`, `principal.role == …`):
  the owning service answers "may this person do X here" (issue 9).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "marketplace"


def module_name(path: Path) -> str:
    return ".".join(("marketplace", *path.relative_to(ROOT).with_suffix("").parts))


def controllers(name: str) -> list[Path]:
    """`pages.py`, and the modules a domain's pages were split into (`form_pages.py`); api alike."""
    return sorted({*ROOT.rglob(f"{name}.py"), *ROOT.rglob(f"*_{name}.py")})


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # "from marketplace.catalog import pages" names the module in the imported names.
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_pages_import_no_api_and_no_other_domains_pages() -> None:
    pages = controllers("pages")
    assert len(pages) >= 7, pages
    wrong = []
    for path in pages:
        own = module_name(path)
        for module in imported_modules(path):
            package, _, last = module.rpartition(".")
            is_api = last == "api" or last.endswith("_api")
            is_pages = last == "pages" or last.endswith("_pages")
            if module.startswith("marketplace.") and (is_api or (is_pages and package != own.rpartition(".")[0])):
                wrong.append(f"{own} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_no_controller_commits_or_writes_the_audit_trail() -> None:
    wrong = []
    for path in [*controllers("pages"), *controllers("api")]:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                target = ast.unparse(node.func)
                if node.func.attr == "commit" or target.startswith("audit."):
                    wrong.append(f"{module_name(path)}:{node.lineno} calls {target}")
    assert not wrong, "\n".join(wrong)


def role_decisions(tree: ast.AST) -> list[tuple[int, str]]:
    """`x.require(*roles)` calls, comparisons of an attribute named `role`, and `x.is_platform`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "require":
            if any(isinstance(arg, ast.Starred) for arg in node.args):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(side, ast.Attribute) and side.attr == "role" for side in sides):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Attribute) and node.attr == "is_platform":
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_role_decisions_check_themselves() -> None:
    source = "p.require(*TTO_ROLES)\np.require()\nx = p.role in ROLES\ny = p.is_platform\nz = Role.inventor == p.role\n"
    assert [line for line, _ in role_decisions(ast.parse(source))] == [1, 3, 4, 5]


def test_no_controller_decides_permissions_by_role() -> None:
    wrong = []
    for path in [*controllers("pages"), *controllers("api")]:
        for line, code in role_decisions(ast.parse(path.read_text(), filename=str(path))):
            wrong.append(f"{module_name(path)}:{line} {code}")
    assert not wrong, "\n".join(wrong)
