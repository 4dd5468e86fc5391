"""The package layering, read from the source: motions -> scenes -> render -> shards -> train.

Every import of every module is parsed (function-local and conditional ones included, since a
circle hidden in a function is still a circle) and checked against three rules:
- a stage imports only itself and the stages to its left; the front door `worldclips` may
  import any stage, and no stage imports the front door;
- the module graph has no circle;
- a heavy library is imported only in its home (moderngl in render/, mujoco in the physics
  module, ray in the farm module, bpy in the Cycles worker, torch in train/ and the SMPL-X body).
The dataset format (schema, writer, reader, validate, preview) must not import the job.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("motions", "scenes", "render", "shards", "train")
STAGE_RANK = {name: rank for rank, name in enumerate(STAGES)}

# library -> module paths (relative to the repository root) allowed to import it
HEAVY_HOMES = {
    "moderngl": ("render/",),
    "mujoco": ("scenes/physics.py",),
    "ray": ("shards/job/farm.py",),
    "bpy": ("render/cycles/worker.py",),
    "mathutils": ("render/cycles/worker.py",),
    "_cycles": ("render/cycles/worker.py",),
    "torch": ("train/", "motions/smplx_body.py"),
    "smplx": ("motions/smplx_body.py",),
    "diffusers": ("train/",),
    "peft": ("train/",),
    "transformers": ("train/",),
}
# The dataset format: readable and checkable without knowing how a clip was made.
FORMAT_MODULES = ("shards/format/",)
JOB_PACKAGE = "worldclips.shards.job"


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) if parts[0] == "worldclips" else ".".join(["worldclips", *parts])


def source_files() -> list[Path]:
    files = []
    for top in (*STAGES, "worldclips"):
        files += [p for p in sorted((ROOT / top).rglob("*.py")) if "__pycache__" not in p.parts]
    return files


def imports_of(path: Path) -> list[tuple[str, int]]:
    """Absolute names of every module imported anywhere in the file, with line numbers."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    return imports_in(path.read_text(), package, str(path))


def imports_in(source: str, package: str, filename: str = "<source>") -> list[tuple[str, int]]:
    """Imports of a module's source (``package``: the package relative imports start from)."""
    tree = ast.parse(source, filename=filename)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, node.lineno))
            # `from pkg import module` imports pkg.module when it is one
            found += [(f"{target}.{alias.name}", node.lineno) for alias in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__" and node.args:
            if isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.append((node.args[0].value, node.lineno))
    return found


def project_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in source_files()}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for target, _ in imports_of(path):
            # resolve to the longest known module name (a `from x import func` is x)
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                graph[name].add(target)
    return graph


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGE_RANK else None


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, on_stack, stack, result, counter = {}, {}, set(), [], [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
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
                result.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return result


def layering_violations(graph: dict[str, set[str]]) -> list[str]:
    problems = []
    for module, targets in graph.items():
        source = stage_of(module)
        for target in sorted(targets):
            into = stage_of(target)
            if source is None:
                continue  # the front door wires every stage
            if into is None and target.startswith("worldclips"):
                problems.append(f"{module} imports the front door {target}")
            elif into is not None and STAGE_RANK[into] > STAGE_RANK[source]:
                problems.append(f"{module} ({source}) imports {target} ({into}), against the data flow")
    return problems


def heavy_violations() -> list[str]:
    problems = []
    for path in source_files():
        rel = path.relative_to(ROOT).as_posix()
        for target, line in imports_of(path):
            top = target.split(".")[0]
            homes = HEAVY_HOMES.get(top)
            if homes is not None and not any(rel == h or (h.endswith("/") and rel.startswith(h)) for h in homes):
                problems.append(f"{rel}:{line} imports {top} outside {', '.join(homes)}")
    return problems


def test_every_import_is_namespaced():
    bare = []
    for path in [*source_files(), *sorted((ROOT / "tests").rglob("*.py")), *sorted((ROOT / "bench").rglob("*.py")),
                 *sorted((ROOT / "tools").rglob("*.py"))]:
        for target, line in imports_of(path):
            if target.split(".")[0] in STAGE_RANK:
                bare.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not bare, "\n".join(bare)


def test_stages_import_only_to_their_left():
    problems = layering_violations(project_graph())
    assert not problems, "\n".join(problems)


def test_no_import_circles():
    cycles = find_cycles(project_graph())
    assert not cycles, "\n".join(" <-> ".join(c) for c in cycles)


def test_heavy_libraries_stay_home():
    problems = heavy_violations()
    assert not problems, "\n".join(problems)


def test_dataset_format_does_not_know_the_job():
    graph = project_graph()
    format_modules = [module_name(p) for p in source_files()
                      if any(p.relative_to(ROOT).as_posix().startswith(f) for f in FORMAT_MODULES)]
    assert len(format_modules) >= 5, format_modules
    # everything a format module reaches, transitively
    problems = []
    for start in format_modules:
        seen, todo = set(), [start]
        while todo:
            for target in graph.get(todo.pop(), ()):
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        problems += [f"{start} reaches {t}" for t in sorted(seen) if t.startswith(JOB_PACKAGE)]
    assert not problems, "\n".join(problems)


# The checker itself must catch what it is there to catch.
def test_checker_finds_a_circle_and_a_backward_import():
    graph = {
        "worldclips.scenes.a": {"worldclips.scenes.b"},
        "worldclips.scenes.b": {"worldclips.scenes.a", "worldclips.train.x"},
        "worldclips.train.x": set(),
    }
    assert find_cycles(graph) == [["worldclips.scenes.a", "worldclips.scenes.b"]]
    assert layering_violations(graph) == [
        "worldclips.scenes.b (scenes) imports worldclips.train.x (train), against the data flow"]


def test_checker_sees_function_local_conditional_and_relative_imports():
    source = (
        "import numpy\n"
        "def f():\n    import ray\n    from torch import nn\n"
        "if False:\n    from . import sibling\n"
        "from ..render import raster\n"
        "__import__('worldclips.train.model')\n"
    )
    names = {name for name, _ in imports_in(source, "worldclips.scenes.scenarios")}
    assert {"numpy", "ray", "torch", "torch.nn", "worldclips.scenes.scenarios.sibling",
            "worldclips.scenes.render.raster", "worldclips.train.model"} <= names


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_has_modules(stage):
    assert any(module_name(p).startswith(f"worldclips.{stage}") for p in source_files())
