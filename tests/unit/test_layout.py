"""The package's layout: which part may import which, and modules a reader can hold in mind.

Every import of every module is read with :mod:`ast` (those inside functions
too). Each part of the package may import only the parts listed for it in
``MAY_IMPORT``, and ``core``, ``report`` and the top-level modules never a
database driver, an HTTP library or the command line. Because every part is
checked, a forbidden import cannot sneak in through another module either.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "runner" / "bufdir_export"

# The top-level modules (models, errors, settings, paths, resources) are "top".
MAY_IMPORT: dict[str, frozenset[str]] = {
    "top": frozenset({"top"}),
    "core": frozenset({"top", "core"}),
    "report": frozenset({"top", "core", "report"}),
    "storage": frozenset({"top", "core", "storage"}),
    "postgres": frozenset({"top", "core", "report", "postgres"}),
    "observability": frozenset({"top", "core", "observability"}),
    "client": frozenset({"top", "postgres", "client"}),
    "tools": frozenset({"top", "postgres", "report", "tools"}),
    "runner_app": frozenset({"top", "core", "report", "storage", "postgres", "observability"}),
    "cli": frozenset(
        {
            "top",
            "core",
            "report",
            "storage",
            "postgres",
            "observability",
            "client",
            "tools",
            "runner_app",
            "cli",
        }
    ),
    "public": frozenset({"top", "core", "report", "client", "public"}),
}
# Libraries that tie code to a database, the network or a terminal.
ADAPTER_LIBRARIES = frozenset(
    {
        "psycopg",
        "psycopg_pool",
        "aiohttp",
        "httpx",
        "supabase",
        "storage3",
        "typer",
        "rich",
        "prometheus_client",
    }
)
NO_ADAPTER_LIBRARIES = frozenset({"top", "core", "report"})
MAX_LINES = 400
MAX_MODULES_PER_FOLDER = 15


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted, inside the package
    target: str  # what it imports, dotted and absolute


def part_of(module: str) -> str:
    """The part of the package a dotted module name (``bufdir_export.x.y``) belongs to."""
    parts = module.split(".")[1:]
    if not parts:
        return "public"
    if parts[0] in MAY_IMPORT:
        return parts[0]
    return "top"


def module_name(path: Path, package: Path) -> str:
    relative = path.relative_to(package.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, package: Path) -> Iterator[Import]:
    module = module_name(path, package)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                # "from . import x" may name a module: count it as one.
                yield Import(module, base if node.module else f"{base}.{alias.name}")


def violations(package: Path) -> list[str]:
    found: list[str] = []
    root = package.name
    for path in sorted(package.rglob("*.py")):
        for edge in imports_of(path, package):
            source = part_of(edge.module)
            top_name = edge.target.split(".")[0]
            if top_name == root:
                target = part_of(edge.target)
                if target not in MAY_IMPORT[source]:
                    found.append(f"{edge.module} imports {edge.target} ({source} -> {target})")
            elif source in NO_ADAPTER_LIBRARIES and top_name in ADAPTER_LIBRARIES:
                found.append(f"{edge.module} imports {edge.target} ({source} -> {top_name})")
    return found


def test_every_part_imports_only_what_it_may() -> None:
    assert violations(PACKAGE) == []


@pytest.mark.parametrize(
    ("where", "source", "expected"),
    [
        ("core/pipeline.py", "import psycopg\n", "core -> psycopg"),
        ("report/writers.py", "from httpx import AsyncClient\n", "report -> httpx"),
        ("report/x.py", "def f():\n    import typer\n", "report -> typer"),
        ("_models.py", "from rich.table import Table\n", "top -> rich"),
        ("core/loop.py", "from ..postgres.queries import Queries\n", "core -> postgres"),
        ("report/x.py", "from ..storage import local\n", "report -> storage"),
        ("storage/x.py", "from ..cli.main import app\n", "storage -> cli"),
        ("tools/x.py", "from ..cli import demo\n", "tools -> cli"),
    ],
)
def test_a_forbidden_import_is_found(
    tmp_path: Path, where: str, source: str, expected: str
) -> None:
    package = tmp_path / "bufdir_export"
    for folder in ("core", "report", "storage", "postgres", "cli", "tools"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / where).write_text(source)
    assert [line.split("(")[-1].rstrip(")") for line in violations(package)] == [expected]


def test_no_module_is_too_long_and_no_folder_too_full() -> None:
    too_long = {
        str(path.relative_to(PACKAGE)): lines
        for path in PACKAGE.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    folders = Counter(
        path.parent.name for path in PACKAGE.rglob("*.py") if path.name != "__init__.py"
    )
    assert too_long == {}
    assert {name: n for name, n in folders.items() if n > MAX_MODULES_PER_FOLDER} == {}


def test_no_two_modules_share_a_name() -> None:
    names = Counter(
        path.stem.lstrip("_") for path in PACKAGE.rglob("*.py") if path.name != "__init__.py"
    )
    assert [name for name, n in names.items() if n > 1] == []


def test_every_folder_says_what_it_holds() -> None:
    undocumented = [
        init.parent.name
        for init in PACKAGE.rglob("__init__.py")
        if ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) is None
    ]
    assert undocumented == []


def test_the_package_imports_without_pwd() -> None:
    """``pwd`` exists only on Unix; the embedded server needs it, nothing else does."""
    blocked = "import sys; sys.modules['pwd'] = None; import bufdir_export; print('ok')"
    run = subprocess.run(
        [sys.executable, "-c", blocked], capture_output=True, text=True, check=False
    )
    assert (run.returncode, run.stdout.strip()) == (0, "ok"), run.stderr
