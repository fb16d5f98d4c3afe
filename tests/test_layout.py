"""The suite's shape: tests mirror the code layout, share helpers through non-test modules
(tests/support/, each domain's factories.py) and fixtures, never through another test module or a
conftest; and test-only helpers such as seed_* factories stay out of the production code."""

from __future__ import annotations

import ast
from pathlib import Path

from marketplace.config import PROJECT_ROOT

TESTS = PROJECT_ROOT / "tests"
PRODUCTION = PROJECT_ROOT / "marketplace"


def imported_modules(path: Path) -> list[str]:
    """Every module a file imports, as dotted names (relative imports resolved; `from x import y`
    also yields x.y, since y may be a module)."""
    package = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.append(module)
            found += [f"{module}.{alias.name}" for alias in node.names]
    return found


def is_test_module(dotted: str) -> bool:
    last = dotted.rsplit(".", 1)[-1]
    return dotted.startswith("tests") and (last.startswith("test_") or last == "conftest")


def test_no_module_of_the_suite_imports_a_test_module_or_a_conftest() -> None:
    offenders = [
        f"{path.relative_to(PROJECT_ROOT)} imports {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for module in imported_modules(path)
        if is_test_module(module)
    ]
    hint = "share helpers through tests/support/ or a factories.py, fixtures through a conftest"
    assert not offenders, hint + ":\n" + "\n".join(offenders)


def test_the_production_code_defines_no_seed_helpers() -> None:
    offenders = [
        f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {node.name}"
        for path in sorted(PRODUCTION.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("seed_")
    ]
    assert not offenders, "test-data factories belong in the tests' factories modules:\n" + "\n".join(offenders)


def test_every_test_folder_is_a_package() -> None:
    """Same basenames may live in two domains' folders only if every folder is a package."""
    missing = [
        str(folder.relative_to(PROJECT_ROOT))
        for folder in [TESTS, *sorted(p for p in TESTS.rglob("*") if p.is_dir() and p.name != "__pycache__")]
        if any(folder.glob("*.py")) and not (folder / "__init__.py").exists()
    ]
    assert not missing, f"add an __init__.py to: {missing}"


def test_test_modules_live_in_their_domain_folder() -> None:
    """tests/ mirrors marketplace/: a test module goes into tests/<domain>/ (tests/app/ for the app as a whole)."""
    flat = sorted(path.name for path in TESTS.glob("test_*.py") if path.name != "test_layout.py")
    assert not flat, f"move into the tests/<domain>/ folder of the code they test: {flat}"


def test_the_checks_see_an_offender() -> None:
    """The import check itself: relative and absolute imports of test modules and conftests count."""
    assert is_test_module("tests.matching.requests.test_matching")
    assert is_test_module("tests.conftest")
    assert not is_test_module("tests.catalog.factories")
    assert not is_test_module("tests.support.world")
    probe = TESTS / "matching" / "requests" / "test_matching_browser.py"
    assert "tests.support.browser" in imported_modules(probe)
