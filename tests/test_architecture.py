"""The package's import rules and boundaries (docs/architecture.md), as tests.

* no import circle among the package's modules (module-level imports, as Python
  runs them; imports under ``if TYPE_CHECKING:`` are for type checkers only);
* layers: the core (everything but ``apps`` and ``transports``) never imports
  ``apps`` or ``transports``; ``apps`` is imported by nothing in the library;
  the handshake never imports ``connection``;
* only ``backend/native.py`` imports the compiled ``_native`` module;
* no private-attribute reach across module boundaries: ``obj._name`` where
  ``_name`` is not defined in the module doing the access, and no ``from x
  import _name`` of another module's private names.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "python" / "ferrotls"
ROOT = "ferrotls"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str, *, runtime_only: bool, top_level_only: bool) -> Iterator[tuple[str, int, list[str]]]:
    """(imported module, line, names) for each import in ``module``."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))

    def walk(nodes: list[ast.stmt], in_function: bool) -> Iterator[tuple[str, int, list[str]]]:
        for node in nodes:
            if isinstance(node, ast.If) and _is_type_checking(node):
                if not runtime_only:
                    yield from walk(node.body, in_function)
                yield from walk(node.orelse, in_function)
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield alias.name, node.lineno, []
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(module, path, node)
                names = [a.name for a in node.names]
                yield target, node.lineno, names
                for name in names:  # ``from . import errors`` imports a module
                    if f"{target}.{name}" in MODULES:
                        yield f"{target}.{name}", node.lineno, []
            children = [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.stmt)]
            nested = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            if children and not (top_level_only and nested):
                yield from walk(children, in_function or nested)

    yield from walk(tree.body, False)


def _internal(name: str) -> str | None:
    """The package module ``name`` refers to (a module, or its package)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _graph(*, runtime_only: bool, top_level_only: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        deps = graph.setdefault(module, set())
        for target, _, _ in _imports(module, runtime_only=runtime_only, top_level_only=top_level_only):
            internal = _internal(target)
            if internal is not None and internal != module and internal.startswith(ROOT):
                deps.add(internal)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def _package_init_edges_removed(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package's ``__init__`` re-exporting its submodules is not a circle:
    ``ferrotls`` imports ``ferrotls.config`` and a submodule that imports a sibling
    through ``ferrotls.x`` resolves to the sibling, not to the package."""
    return {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in graph.items()}


def test_no_import_circle() -> None:
    graph = _package_init_edges_removed(_graph(runtime_only=True, top_level_only=True))
    assert _cycles(graph) == []


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _all_imports() -> Iterator[tuple[str, str, int, list[str]]]:
    for module in MODULES:
        for target, line, names in _imports(module, runtime_only=False, top_level_only=False):
            yield module, target, line, names


def test_core_never_imports_apps_or_transports() -> None:
    bad = []
    for module, target, line, _ in _all_imports():
        layer = _layer(module)
        if layer in ("apps", "transports") or module in (
            ROOT, f"{ROOT}.asyncio", f"{ROOT}.context", f"{ROOT}.sslobject", f"{ROOT}.inject", f"{ROOT}.__main__"
        ):
            continue  # the top: transports, the ssl-shaped layer (context, sslobject, inject), re-exports
        if target.startswith((f"{ROOT}.apps", f"{ROOT}.transports")):
            bad.append(f"{module}:{line} imports {target}")
    assert bad == []


def test_nothing_in_the_library_imports_apps() -> None:
    bad = [
        f"{module}:{line} imports {target}"
        for module, target, line, _ in _all_imports()
        if target.startswith(f"{ROOT}.apps") and _layer(module) != "apps" and module != f"{ROOT}.__main__"
    ]
    assert bad == []


def test_handshake_never_imports_connection() -> None:
    bad = [
        f"{module}:{line} imports {target}"
        for module, target, line, _ in _all_imports()
        if _layer(module) == "handshake" and target == f"{ROOT}.connection"
    ]
    assert bad == []


def test_only_the_native_adapter_imports_native() -> None:
    bad = [
        f"{module}:{line}"
        for module, target, line, names in _all_imports()
        if (target == f"{ROOT}._native" or (target == ROOT and "_native" in names))
        and module != f"{ROOT}.backend.native"
    ]
    assert bad == []


# --------------------------------------------------------------------------- private reach


_ALLOWED_PRIVATE_IMPORTS = {"_native", "_version"}
_FOREIGN_PRIVATE = {
    "_SSLMethod",  # ssl's type of PROTOCOL_* (the signature ssl.SSLContext.protocol has)
    "_sendfile_use_send",  # socket.socket's fallback, inherited by TLSSocket (an ssl.SSLSocket)
}
"""Private names of the standard library that the ssl drop-in must use to match its API."""


def _private_names_defined(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("_"):
            names.add(node.value)  # __slots__ entries
        elif isinstance(node, ast.alias) and node.asname:
            names.add(node.asname)
    return {n for n in names if n.startswith("_")}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_reach_across_modules(module: str) -> None:
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    own = _private_names_defined(tree)
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr) and node.attr not in own | _FOREIGN_PRIVATE:
            bad.append(f"{path.name}:{node.lineno} .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            for alias in node.names:
                if _is_private(alias.name) and alias.name not in _ALLOWED_PRIVATE_IMPORTS:
                    bad.append(f"{path.name}:{node.lineno} imports {alias.name}")
    assert bad == []


def test_the_checks_can_fail() -> None:
    """The rules above catch what they are for (a test that cannot fail is a defect)."""
    tree = ast.parse("def f(conn):\n    return conn._records\n")
    own = _private_names_defined(tree)
    reach = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and _is_private(n.attr) and n.attr not in own]
    assert reach
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
