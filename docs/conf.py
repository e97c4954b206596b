"""Sphinx configuration of the fmrnoise documentation (``make docs``)."""

from __future__ import annotations

import os
import sys
from importlib.metadata import version as _version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "fmrnoise"
author = "the fmrnoise developers"
copyright = "the fmrnoise developers"
release = _version("fmrnoise")
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_nb",  # MyST Markdown pages and the tutorial notebook
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "fmrnoise_docs",  # docs/_ext: contract tables from the code, NumPy-style field lines
]

source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "tutorial-work"]

# The tutorial (tutorial.ipynb, a link to examples/tutorial.ipynb) is executed when `make docs`
# sets FMRNOISE_DOCS_EXECUTE=1; the tests build the docs without running it (they execute the
# notebook on their own).
nb_execution_mode = "force" if os.environ.get("FMRNOISE_DOCS_EXECUTE") else "off"
nb_execution_timeout = 600
nb_execution_raise_on_error = True

# MyST: $...$ and $$...$$ math, ::: fences, anchors for headings down to level 3.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# autodoc and napoleon: the docstrings are NumPy style ("name : description [units]").
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
# Array aliases by name (expanded, numpy's ArrayLike fills a screen).
autodoc_type_aliases = {name: name for name in (
    "ArrayLike", "NDArray", "FloatArray", "Int8Array", "DampingLaw", "Bound", "KeyPath",
    "AttractorKind", "BoolArray", "IntArray")}
autodoc_default_options = {"members": True}
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_ivar = True
napoleon_use_rtype = False

html_theme = "alabaster"
# Wider than the default 940 px: the contract's tables and the architecture diagram need it.
html_theme_options = {"page_width": "1180px", "sidebar_width": "230px"}
html_title = f"fmrnoise {release}"
html_static_path: list[str] = []
