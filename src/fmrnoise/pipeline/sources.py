"""The source files whose code a stage or a figure executes, derived from the code itself.

A stage's values depend on the code of its module (``fmrnoise.pipeline.stages.<stage>``) and
of every module it imports, directly or not, inside the package: the *static import closure*,
read from the modules' syntax trees (imports inside functions included). One function,
:func:`closure`, gives both the files a stage's Snakemake rule lists as inputs (a code edit
reruns exactly the stages that execute the edited file) and the code hash in its chunk keys (the
cache never serves a chunk computed by other code).

Left out of every closure: the packages' ``__init__`` modules, which only re-export, and the
tables of the data contract (``fmrnoise.pipeline.contract``): what a stage takes from the
contract (its parameters, variables, options) reaches it through its specification, the rule's
``params``, so that adding a variable to one stage reruns that stage and re-keys no other.

The files are those of the imported ``fmrnoise`` package, the code that actually runs (an
editable install: the checkout's ``src/``; a wheel: ``site-packages``).
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from importlib.metadata import version
from pathlib import Path

PACKAGE = "fmrnoise"
ROOT = Path(__file__).resolve().parents[1]  # the directory of the fmrnoise package
#: Modules never part of a closure (see the module docstring).
EXCLUDED = frozenset({"fmrnoise.pipeline.contract"})
#: Libraries whose versions enter chunk keys and rule parameters: their numerics shape values.
NUMERIC_LIBRARIES = ("numpy", "scipy")


def module_path(name: str) -> Path | None:
    """File of the module ``fmrnoise.a.b`` (``a/b.py`` or the package ``a/b/__init__.py``)."""
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return None
    base = ROOT.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_package(name: str) -> bool:
    path = module_path(name)
    return path is not None and path.name == "__init__.py"


@cache
def imported_modules(name: str) -> frozenset[str]:
    """Modules of the package that module ``name`` imports (anywhere in its code).

    ``from package import name`` counts as an import of the submodule where ``name`` is one,
    else of the package (whose ``__init__`` a closure leaves out).
    """
    path = module_path(name)
    if path is None:
        return frozenset()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            found.add(source)
            found.update(f"{source}.{alias.name}" for alias in node.names
                         if module_path(f"{source}.{alias.name}") is not None)
    return frozenset(m for m in found if module_path(m) is not None)


@cache
def closure(name: str) -> tuple[Path, ...]:
    """Source files of module ``name`` and of everything it imports in the package, sorted.

    Package ``__init__`` modules and :data:`EXCLUDED` are left out (module docstring).
    """
    seen, todo = set(), [name]
    while todo:
        module = todo.pop()
        if module in seen or module in EXCLUDED or (_is_package(module) and module != name):
            continue
        seen.add(module)
        todo.extend(imported_modules(module))
    return tuple(sorted(module_path(m) for m in seen if not _is_package(m)))


def stage_module(stage: str) -> str:
    """The module of a pipeline stage."""
    return f"{PACKAGE}.pipeline.stages.{stage}"


def stage_sources(stage: str) -> tuple[Path, ...]:
    """Files whose code determines the values of ``stage``: its module's closure."""
    return closure(stage_module(stage))


def figure_sources(figure: str) -> tuple[Path, ...]:
    """Files a figure's rule executes: the closure of ``fmrnoise.plots.<figure>``."""
    return closure(f"{PACKAGE}.plots.{figure}")


@cache
def code_hash(files: tuple[Path, ...]) -> str:
    """SHA-256 of the given source files, each with its path relative to the package."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of the numeric libraries, whose numerics shape the values."""
    return {name: version(name) for name in NUMERIC_LIBRARIES}
