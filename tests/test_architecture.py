"""The library's import rules (ARCHITECTURE.md), read from the source with ``ast``.

Every import statement counts, at module level or inside a function. Layers, bottom up:
core (specs, data, models, masks, pruners, training, pure analyses) < ``runs`` (cache, store,
executors, experiments) < ``book`` (parameters, claims, runner) < ``chapters.<name>``.
A module imports only its own layer and the layers below; a chapter never imports another
chapter (modules beside the chapter packages, such as the dry run, may import them all); executors receive picklable tasks and never import ``experiments``; no module
imports another module's private (``_``) names; and there are no import cycles.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pruninglib"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str) -> list[tuple[str, str | None]]:
    """(imported pruninglib module, imported name or None) for every import statement."""
    path = MODULES[module]
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names if a.name.startswith("pruninglib")]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(node, module, path.name == "__init__.py")
            if not target.startswith("pruninglib"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append((sub, None) if sub in MODULES else (target, alias.name))
    return found


GRAPH = {m: {t for t, _ in imports_of(m) if t in MODULES and t != m} for m in MODULES}


def layer(module: str) -> tuple[int, str]:
    """(rank, chapter name or '') of a module."""
    parts = module.split(".")
    if len(parts) > 1 and parts[1] == "chapters":  # a module beside the chapter packages
        in_package = len(parts) > 2 and (PACKAGE / "chapters" / parts[2]).is_dir()
        return 3, parts[2] if in_package else ""
    if len(parts) > 1 and parts[1] == "book":
        return 2, ""
    if len(parts) > 1 and (parts[1] == "runs" or parts[1] == "__main__"):
        return 1, ""
    return 0, ""


def test_there_is_no_import_cycle():
    seen, on_stack, cycles = set(), [], []

    def visit(node: str) -> None:
        seen.add(node)
        on_stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if nxt in on_stack:
                cycles.append(on_stack[on_stack.index(nxt):] + [nxt])
            elif nxt not in seen:
                visit(nxt)
        on_stack.pop()

    for module in sorted(GRAPH):
        if module not in seen:
            visit(module)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_every_import_points_down_the_layers():
    wrong = []
    for module, targets in GRAPH.items():
        rank, chapter = layer(module)
        for target in targets:
            t_rank, t_chapter = layer(target)
            if t_rank > rank or (t_rank == 3 and chapter and t_chapter != chapter):
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_executors_do_not_import_experiments():
    assert "pruninglib.runs.experiments" not in GRAPH["pruninglib.runs.executors"]


def test_no_private_name_is_imported_from_another_module():
    private = [f"{module} imports {target}.{name}" for module in MODULES
               for target, name in imports_of(module)
               if name and name.startswith("_") and not name.startswith("__")]
    assert not private, "\n".join(private)


def test_no_private_attribute_of_another_library_module_is_used():
    wrong = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        aliases = {}  # local name -> pruninglib module
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = _resolve(node, module, path.name == "__init__.py")
                for alias in node.names:
                    if f"{target}.{alias.name}" in MODULES:
                        aliases[alias.asname or alias.name] = f"{target}.{alias.name}"
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                wrong.append(f"{module} uses {aliases[node.value.id]}.{node.attr}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("chapter", sorted(p.name for p in (PACKAGE / "chapters").iterdir()
                                           if (p / "__init__.py").is_file()))
def test_each_chapter_package_is_named_like_its_notebook(chapter):
    assert (PACKAGE.parent / "notebooks" / f"{chapter}.ipynb").is_file()


def test_the_checker_sees_a_cycle_and_an_upward_import(tmp_path, monkeypatch):
    """The rules above can fail: a planted cycle and a core module importing a chapter."""
    graph = {"pruninglib.a": {"pruninglib.b"}, "pruninglib.b": {"pruninglib.a"}}
    monkeypatch.setitem(globals(), "GRAPH", graph)
    with pytest.raises(AssertionError, match="cycles"):
        test_there_is_no_import_cycle()
    monkeypatch.setitem(globals(), "GRAPH", {"pruninglib.data": {"pruninglib.chapters.x.y"},
                                             "pruninglib.chapters.x.y": set()})
    with pytest.raises(AssertionError, match="pruninglib.data imports"):
        test_every_import_points_down_the_layers()
