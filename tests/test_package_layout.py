"""Package layout: no import cycles, no imports up the stage order, a small root, short files.

The checker reads the source with :mod:`ast` and never imports it, so it sees
every ``import`` statement, including the ones deferred into function bodies to
dodge a cycle at import time.  The stages, lowest first::

    0  ground floor: errors, dtypes, recording, version
    1  symgrad.ir and its submodules
    2  symgrad.compiler.*
    3  symgrad.frontend.*, and symgrad.functional (a thin re-export of the frontend's)
    4  symgrad.runtime.*
    5  symgrad.formulas.*
    6  symgrad.nn.*, symgrad.optim.*, symgrad.utils.*, symgrad.testing*  (one level)
    7  symgrad (the package __init__), symgrad.__main__, symgrad.cli*

A module may import its own stage or lower ones.  A new module must be placed in
:data:`STAGES` on purpose: :func:`stage_of` rejects any module it does not know.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import NamedTuple

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "symgrad"
MAX_ROOT_MODULES = 8  # .py files directly in symgrad/, besides __init__.py and __main__.py
MAX_LINES = 400

# (stage, fnmatch patterns over dotted module names); ``*`` also matches dots.
STAGES: tuple[tuple[int, tuple[str, ...]], ...] = (
    (0, ("symgrad.errors", "symgrad.dtypes", "symgrad.recording", "symgrad.version")),
    (1, ("symgrad.ir", "symgrad.ir.*")),
    (2, ("symgrad.compiler", "symgrad.compiler.*")),
    (3, ("symgrad.frontend", "symgrad.frontend.*", "symgrad.functional")),
    (4, ("symgrad.runtime", "symgrad.runtime.*")),
    (5, ("symgrad.formulas", "symgrad.formulas.*")),
    (6, ("symgrad.nn", "symgrad.nn.*", "symgrad.optim", "symgrad.optim.*")),
    (6, ("symgrad.utils", "symgrad.utils.*", "symgrad.testing*")),
    (7, ("symgrad", "symgrad.__main__", "symgrad.cli*")),
)


class ImportSite(NamedTuple):
    """One import of a package module: who imports what, on which line, and whether the
    statement sits inside a function or method (runs on call, not on import)."""

    source: str
    target: str
    line: int
    in_function: bool


# --- the checker ----------------------------------------------------------------------------


def module_files(package_dir: Path, package: str = "symgrad") -> dict[str, Path]:
    """Dotted module name → file, for every ``.py`` file under ``package_dir``.

    A package's ``__init__.py`` is named after the package (``symgrad.ir``).
    """
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join([package, *parts])] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    """True for ``TYPE_CHECKING`` and ``typing.TYPE_CHECKING`` (or any ``x.TYPE_CHECKING``)."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _import_statements(tree: ast.AST) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement in ``tree`` with whether it is inside a function, skipping the
    bodies of ``if TYPE_CHECKING:`` blocks (their ``else`` branches still count)."""
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, in_function = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, in_function
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            children: Iterable[ast.AST] = node.orelse
        else:
            children = ast.iter_child_nodes(node)
        inside = in_function or isinstance(
            node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        )
        stack.extend((child, inside) for child in reversed(list(children)))


def _base_of_relative(module: str, is_package: bool, level: int) -> str | None:
    """The package ``from .`` (level 1), ``from ..`` (level 2), ... refers to in ``module``."""
    base = module if is_package else module.rpartition(".")[0]
    for _ in range(level - 1):
        if "." not in base:
            return None  # beyond the top-level package: an ImportError at run time
        base = base.rpartition(".")[0]
    return base or None


def _targets(
    stmt: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: Collection[str]
) -> list[str]:
    """The dotted names one statement imports: modules where the name is a module, else the
    module the names come from (``from a.b import c`` gives ``a.b.c`` or ``a.b``)."""
    if isinstance(stmt, ast.Import):
        return [alias.name for alias in stmt.names]
    if stmt.level:
        base = _base_of_relative(module, is_package, stmt.level)
        if base is None:
            return []
        origin = f"{base}.{stmt.module}" if stmt.module else base
    else:
        origin = stmt.module or ""
    names = []
    for alias in stmt.names:
        candidate = f"{origin}.{alias.name}"
        names.append(candidate if alias.name != "*" and candidate in modules else origin)
    return names


def _known_module(name: str, modules: Collection[str]) -> str | None:
    """``name`` itself if it is a module, else its longest prefix that is one."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def import_sites(package_dir: Path, package: str = "symgrad") -> list[ImportSite]:
    """Every import of one of the package's modules, module level or deferred into a function:
    one site per statement and target module (``from a import x, y`` is one site).

    Imports under ``if TYPE_CHECKING:`` and imports of other packages are left out, and so
    are a module's imports of itself and of its own parent packages (importing a submodule
    runs its parents' ``__init__`` anyway: that is not a dependency).
    """
    files = module_files(package_dir, package)
    sites = []
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for stmt, in_function in _import_statements(tree):
            targets = set()
            for name in _targets(stmt, module, is_package, files):
                if name == package or name.startswith(package + "."):
                    targets.add(_known_module(name, files))
            for target in sorted(targets - {None}):
                if target != module and not module.startswith(target + "."):
                    sites.append(ImportSite(module, target, stmt.lineno, in_function))
    return sites


def import_edges(package_dir: Path, package: str = "symgrad") -> dict[str, set[str]]:
    """Module → the package modules it imports (see :func:`import_sites` for what counts).

    Every module of the package is a key, also one that imports nothing.
    """
    edges: dict[str, set[str]] = {module: set() for module in module_files(package_dir, package)}
    for site in import_sites(package_dir, package):
        edges[site.source].add(site.target)
    return edges


def import_cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module, each sorted, list sorted.

    Tarjan's algorithm with an explicit stack (no recursion limit on deep graphs).
    """
    graph: dict[str, list[str]] = {m: sorted(set(t)) for m, t in edges.items()}
    for targets in list(graph.values()):
        for target in targets:
            graph.setdefault(target, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)

    for root in sorted(graph):
        if root in index:
            continue
        visit(root)
        work: list[tuple[str, Iterator[str]]] = [(root, iter(graph[root]))]
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    visit(child)
                    work.append((child, iter(graph[child])))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:  # every child done: close the node
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return sorted(components)


def stage_of(module: str, stages: Sequence[tuple[int, Sequence[str]]] = STAGES) -> int:
    """The stage of ``module`` (lower imports nothing higher); unknown modules are an error."""
    for stage, patterns in stages:
        if any(fnmatchcase(module, pattern) for pattern in patterns):
            return stage
    raise AssertionError(
        f"module {module!r} has no stage: place it in STAGES in {Path(__file__).name}"
    )


def upward_imports(
    edges: Mapping[str, Iterable[str]], stage: Callable[[str], int] = stage_of
) -> list[tuple[str, str]]:
    """The edges (source, target), sorted, whose target sits in a higher stage than the source."""
    return sorted(
        (source, target)
        for source, targets in edges.items()
        for target in targets
        if stage(target) > stage(source)
    )


# --- the layout of symgrad ------------------------------------------------------------------


def test_no_import_cycles() -> None:
    """No set of modules imports each other in a circle, not even through deferred imports."""
    assert import_cycles(import_edges(PACKAGE_DIR)) == []


def test_no_upward_imports() -> None:
    """Every import goes to the importer's own stage or a lower one."""
    upward = upward_imports(import_edges(PACKAGE_DIR))
    listed = "\n".join(
        f"  {s} (stage {stage_of(s)}) -> {t} (stage {stage_of(t)})" for s, t in upward
    )
    assert not upward, f"{len(upward)} imports go up the stage order:\n{listed}"


def test_package_root_is_small() -> None:
    """The package root holds at most a few modules; the rest lives in subpackages."""
    root = sorted(
        p.name for p in PACKAGE_DIR.glob("*.py") if p.name not in ("__init__.py", "__main__.py")
    )
    assert len(root) <= MAX_ROOT_MODULES, f"{len(root)} modules at the package root: {root}"


def test_no_source_file_over_400_lines() -> None:
    """Every source file stays short enough to read in one sitting."""
    counts = {
        path.relative_to(PACKAGE_DIR.parent).as_posix(): len(
            path.read_text(encoding="utf-8").splitlines()
        )
        for path in sorted(PACKAGE_DIR.rglob("*.py"))
    }
    over = {name: n for name, n in counts.items() if n > MAX_LINES}
    listed = ", ".join(f"{name} ({n} lines)" for name, n in over.items())
    assert not over, f"files over {MAX_LINES} lines: {listed}"


# --- the checker itself, on a synthetic package ---------------------------------------------


def _write_package(root: Path, files: Mapping[str, str]) -> Path:
    """Write ``files`` (path relative to the package dir → source) under ``root/symgrad``."""
    package_dir = root / "symgrad"
    for relative, source in files.items():
        path = package_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return package_dir


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    """A small ``symgrad`` with one of each kind of import the checker must handle."""
    return _write_package(
        tmp_path,
        {
            "__init__.py": "from symgrad import ir, nn\nfrom symgrad.errors import Oops\n",
            "errors.py": (
                "import numpy as np\n\n"
                "class Oops(Exception):\n"
                "    def hint(self):\n"
                "        from symgrad.nn import hints  # deferred, still upward\n"
                "        return hints.TEXT\n"
            ),
            "ir/__init__.py": "from .graph import Graph\nfrom . import a\n",
            "ir/graph.py": (
                "from typing import TYPE_CHECKING\nimport typing\n\n"
                "from symgrad.errors import Oops\n"
                "import symgrad.ir  # its own parent package: not counted\n"
                "import symgrad.ir.graph  # itself: not counted\n\n"
                "if TYPE_CHECKING:\n    from symgrad.nn.layers import Linear\n"
                "else:\n    from symgrad.ir import b\n"
                "if typing.TYPE_CHECKING:\n    import symgrad.compiler\n\n"
                "class Graph:\n    pass\n"
            ),
            "ir/a.py": "from symgrad.ir.b import helper\n\nA = 1\n",
            "ir/b.py": "def helper():\n    from symgrad.ir import a\n    return a.A\n",
            "compiler/__init__.py": "",
            "compiler/passes.py": "from ..ir import Graph, a\nfrom ..ir.graph import *\n",
            "nn/__init__.py": "from . import layers\n",
            "nn/hints.py": "TEXT = 'no hint'\n",
            "nn/layers.py": "from ..compiler import passes\nimport symgrad.ir.graph as g\n",
        },
    )


def test_import_edges_on_a_toy_package(toy: Path) -> None:
    """Module level, deferred, relative and ``else``-of-TYPE_CHECKING imports all count."""
    assert import_edges(toy) == {
        "symgrad": {"symgrad.ir", "symgrad.nn", "symgrad.errors"},
        "symgrad.errors": {"symgrad.nn.hints"},
        "symgrad.ir": {"symgrad.ir.graph", "symgrad.ir.a"},
        "symgrad.ir.graph": {"symgrad.errors", "symgrad.ir.b"},
        "symgrad.ir.a": {"symgrad.ir.b"},
        "symgrad.ir.b": {"symgrad.ir.a"},
        "symgrad.compiler": set(),
        "symgrad.compiler.passes": {"symgrad.ir", "symgrad.ir.a", "symgrad.ir.graph"},
        "symgrad.nn": {"symgrad.nn.layers"},
        "symgrad.nn.layers": {"symgrad.compiler.passes", "symgrad.ir.graph"},
        "symgrad.nn.hints": set(),
    }


def test_import_sites_tell_deferred_imports_apart(toy: Path) -> None:
    """An import inside a function or method is marked as such, with its line."""
    deferred = {(s.source, s.target, s.line) for s in import_sites(toy) if s.in_function}
    assert deferred == {
        ("symgrad.errors", "symgrad.nn.hints", 5),
        ("symgrad.ir.b", "symgrad.ir.a", 2),
    }


def test_relative_import_beyond_the_top_is_ignored(tmp_path: Path) -> None:
    """``from ... import x`` that climbs past the package root resolves to nothing."""
    package_dir = _write_package(tmp_path, {"__init__.py": "", "ir.py": "from .. import other\n"})
    assert import_edges(package_dir) == {"symgrad": set(), "symgrad.ir": set()}


def test_import_cycles_finds_a_deferred_two_module_cycle(toy: Path) -> None:
    """``a`` imports ``b`` at module level and ``b`` imports ``a`` in a function: a cycle."""
    assert import_cycles(import_edges(toy)) == [["symgrad.ir.a", "symgrad.ir.b"]]


def test_import_cycles_on_plain_graphs() -> None:
    """Separate cycles come out separately and sorted; a DAG has none."""
    edges = {"c": {"a"}, "a": {"b"}, "b": {"c", "d"}, "d": set(), "x": {"y"}, "y": {"x", "d"}}
    assert import_cycles(edges) == [["a", "b", "c"], ["x", "y"]]
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_import_cycles_handles_a_long_chain() -> None:
    """No recursion limit: a 5000-module ring is one component."""
    n = 5000
    edges = {f"m{i}": {f"m{(i + 1) % n}"} for i in range(n)}
    [component] = import_cycles(edges)
    assert len(component) == n


def test_upward_imports_on_a_toy_package(toy: Path) -> None:
    """The ground floor reaching up to nn, and ir.graph's TYPE_CHECKING-only imports not."""
    assert upward_imports(import_edges(toy)) == [("symgrad.errors", "symgrad.nn.hints")]


def test_stage_of() -> None:
    """Known modules get their stage; an unknown one is an error that names it."""
    assert stage_of("symgrad.version") == 0
    assert stage_of("symgrad.ir") == stage_of("symgrad.ir.graph") == 1
    assert stage_of("symgrad.compiler.autodiff") == 2
    assert stage_of("symgrad.functional") == stage_of("symgrad.frontend.functional") == 3
    assert stage_of("symgrad.runtime.eager") == 4
    assert stage_of("symgrad.formulas") == 5
    assert stage_of("symgrad.nn.layers") == stage_of("symgrad.optim") == 6
    assert stage_of("symgrad.testing") == stage_of("symgrad.utils.data") == 6
    assert stage_of("symgrad") == stage_of("symgrad.__main__") == 7
    with pytest.raises(AssertionError, match=r"symgrad\.tensor_ops"):
        stage_of("symgrad.tensor_ops")
