"""Sphinx extension of the fmrnoise documentation.

- Directives that write the data contract's tables from the code, so that the documentation
  cannot drift from what the pipeline stores:

  ``contract-variables <stage>`` (option ``:option: quadrature``): the variables of a stage's
  store, from :data:`fmrnoise.pipeline.contract.VARIABLES` (or the variables an option adds);
  ``contract-axes``: which model parameters each stage depends on, from
  :func:`fmrnoise.pipeline.contract.stage_parameters`;
  ``contract-dims``: the dimensions after the grid axes, from ``EXTRA_DIMS``;
  ``contract-flags <Stability|Status>``: the codes of an enumeration with their meaning;
  ``contract-text <NAME>``: a text constant of the contract (``NOISE_CONVENTION``, ``GAUGE``);
  ``stage-sources``: per stage, the steady-state variables it reads and the source files of its
  import closure (:mod:`fmrnoise.pipeline.sources`).

- Docstrings: the project writes NumPy-style field lines as ``name : description [units]`` (no
  type), which Napoleon would read as a type: they are split before Napoleon sees them. Its
  plain-text formulas write absolute values as |x|: the bars are escaped, since
  reStructuredText reads |x| as a substitution.

- ``figure-gallery``: every figure of :data:`fmrnoise.plots.FIGURES`, in the report's order,
  with its title, its image and the caption its job wrote (``results/figures/<name>.png`` and
  ``<name>.caption.rst``, the numbers computed from the stores), where ``make run`` drew them;
  otherwise a line saying how to draw it. The directory is the configuration value
  ``fmrnoise_figures`` (relative to docs/).

- Included README files: links between the repository's Markdown files are rewritten to the
  documentation's pages (``config/README.md`` -> ``configuration.md``, ``docs/x.md`` -> ``x.md``,
  images ``docs/images/`` -> ``images/``).
"""

from __future__ import annotations

import os
import re
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

# --- tables ------------------------------------------------------------------------------------


def _cell(content: str | nodes.Node) -> nodes.entry:
    entry = nodes.entry()
    paragraph = nodes.paragraph()
    paragraph += content if isinstance(content, nodes.Node) else nodes.Text(content)
    entry += paragraph
    return entry


def _code(text: str) -> nodes.literal:
    return nodes.literal(text, text)


def table(headers: list[str], rows: list[list[str | nodes.Node]],
          widths: list[int] | None = None) -> nodes.table:
    """A docutils table with a header row."""
    widths = widths or [1] * len(headers)
    tab = nodes.table(classes=["longtable"])
    group = nodes.tgroup(cols=len(headers))
    tab += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    row = nodes.row()
    for header in headers:
        row += _cell(header)
    head += row
    group += head
    body = nodes.tbody()
    for values in rows:
        row = nodes.row()
        for value in values:
            row += _cell(value)
        body += row
    group += body
    return tab


class ContractVariables(SphinxDirective):
    """The variables of one stage's store (or those that a study option adds)."""

    required_arguments = 1
    option_spec: ClassVar[dict[str, Any]] = {"option": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        from fmrnoise.pipeline.contract import LINE_VARIABLES, OPTION_VARIABLES, VARIABLES

        stage = self.arguments[0]
        if "option" in self.options:
            variables = OPTION_VARIABLES[(stage, self.options["option"])]
        else:
            variables = {**VARIABLES, **LINE_VARIABLES}[stage]
        rows = []
        for name, var in variables.items():
            if stage == "boundaries":
                dims = ", ".join(var.dims)
            elif stage == "sweep":
                dims = "other axes, direction, swept axis"
            else:
                dims = "axes, " + ", ".join(var.dims) if var.dims else "axes"
            attrs = ", ".join(f"{key} = {value}" for key, value in var.attrs)
            rows.append([_code(name), dims, _code(var.dtype), _code(var.units),
                         var.long_name + (f" ({attrs})" if attrs else "")])
        return [table(["variable", "dimensions", "dtype", "units", "long_name"], rows,
                      [14, 20, 8, 12, 46])]


class ContractAxes(SphinxDirective):
    """The model parameters each stage depends on, without and with lead damping."""

    def run(self) -> list[nodes.Node]:
        from fmrnoise.pipeline.contract import STAGES, stage_parameters

        rows = [[_code(stage), ", ".join(stage_parameters(stage, False)),
                 ", ".join(stage_parameters(stage, True))] for stage in STAGES]
        return [table(["store", "axes it may span (lead_damping false)",
                       "axes it may span (lead_damping true)"], rows, [14, 43, 43])]


class ContractDims(SphinxDirective):
    """The dimensions after the grid axes and their coordinate labels."""

    def run(self) -> list[nodes.Node]:
        from fmrnoise.pipeline.contract import EXTRA_DIMS

        rows = [[_code(name), "0, 1, …, limits.max_states − 1" if labels is None
                 else ", ".join(labels)] for name, labels in EXTRA_DIMS.items()]
        return [table(["dimension", "coordinate"], rows, [20, 80])]


#: What each code means (the enumerations hold the codes and names; these are for readers).
FLAG_MEANINGS = {
    "EMPTY": "no state in this slot (every float of the slot is NaN)",
    "STABLE": "det J > 0 and tr J < 0: an attractor of the rotating-frame flow",
    "UNSTABLE": "det J > 0 and tr J > 0",
    "SADDLE": "det J < 0",
    "MARGINAL": "|det J| or |tr J| at round-off level (theory §3): e.g. a centre without "
                "damping, or two states about to merge",
    "NO_STABLE_STATE": "the point has no stable fixed point (e.g. a limit cycle attracts): "
                       "no state of it describes the magnet",
    "TRUNCATED_STATES": "the point has more states than branch slots; the lowest-θ ones are "
                        "kept",
    "RESIDUAL_ABOVE_TOLERANCE": "a state's stationarity residual exceeds the tolerance "
                                "(fmrnoise.physics.steady_state.RESIDUAL_TOLERANCE)",
    "FOLD": "saddle-node: two states meet and disappear (det J = 0), refined",
    "HOPF": "a state with det J > 0 changes stability (tr J = 0), refined",
    "DEGENERATE": "a change at a non-generic place (b = 0, Ω = 0, a marginal grid point): "
                  "not refined (theory §11)",
    "LIMIT_CYCLE": "no stable fixed point reached: the magnet precesses on a limit cycle "
                   "(θ, ψ, S, I are NaN)",
    "INTEGRATED": "the state was found by a time integration (a jump, a limit cycle, a return "
                  "from one)",
}


class ContractFlags(SphinxDirective):
    """The codes of an enumeration of :mod:`fmrnoise.physics.codes` (values or bit masks)."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        from fmrnoise.physics import codes

        enum = getattr(codes, self.arguments[0])
        rows = [[_code(str(int(member))), _code(member.name.lower()),
                 FLAG_MEANINGS[member.name]] for member in enum]
        return [table(["code", "name (flag_meanings)", "meaning"], rows, [8, 28, 64])]


class ContractText(SphinxDirective):
    """A text constant of :mod:`fmrnoise.pipeline.contract`, as a literal block."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        from fmrnoise.pipeline import contract

        text = str(getattr(contract, self.arguments[0]))
        return [nodes.literal_block(text, text)]


class StageSources(SphinxDirective):
    """Per stage: what it reads from the steady state and the files of its import closure."""

    def run(self) -> list[nodes.Node]:
        import importlib

        from fmrnoise.pipeline.contract import STAGES
        from fmrnoise.pipeline.sources import ROOT, closure, stage_module, stage_sources

        def files(paths: tuple) -> str:
            return ", ".join(str(path.relative_to(ROOT)) for path in paths)

        rows = []
        for stage in STAGES:
            upstream = importlib.import_module(stage_module(stage)).UPSTREAM
            rows.append([_code(stage), ", ".join(upstream) or "(nothing)",
                         files(stage_sources(stage))])
        rows.append([_code("(every stage)"), "",
                     files(closure("fmrnoise.pipeline.runner")) + " (the runner: moves chunks, "
                     "computes no value; rule inputs only, not in chunk keys)"])
        from fmrnoise.pipeline.contract import LINE_STAGES
        from fmrnoise.pipeline.lines import STATE_FIELDS

        for stage in LINE_STAGES:
            rows.append([_code(stage), ", ".join(STATE_FIELDS) + " (whole lines)",
                         files(stage_sources(stage))])
        rows.append([_code("(boundaries, sweep)"), "",
                     files(closure("fmrnoise.pipeline.lines")) + " (their runner)"])
        return [table(["stage", "reads from steady_state.zarr",
                       "import closure (under src/fmrnoise/)"], rows, [14, 20, 66])]


# --- figure gallery ---------------------------------------------------------------------------


class FigureGallery(SphinxDirective):
    """One section per figure: title, image and generated caption, or how to draw it."""

    def run(self) -> list[nodes.Node]:
        import importlib
        from pathlib import Path

        from fmrnoise.plots import FIGURES

        directory = Path(self.env.srcdir) / self.config.fmrnoise_figures
        sections = []
        for index, name in enumerate(FIGURES, 1):
            title = importlib.import_module(f"fmrnoise.plots.{name}").TITLE
            section = nodes.section(ids=[f"figure-{name.replace('_', '-')}"])
            section += nodes.title(text=f"{index}. {title}")
            section += nodes.paragraph("", "", nodes.Text("Figure "), _code(name),
                                       nodes.Text(", drawn by "),
                                       _code(f"fmrnoise.plots.{name}.draw"), nodes.Text("."))
            png, caption = directory / f"{name}.png", directory / f"{name}.caption.rst"
            if png.is_file() and caption.is_file():
                self.env.note_dependency(str(png))
                self.env.note_dependency(str(caption))
                uri = Path(os.path.relpath(png, self.env.srcdir)).as_posix()
                section += nodes.image(uri=uri, alt=title, candidates={"*": uri})
                section += _rst_nodes(caption.read_text(encoding="utf-8"))
            else:
                section += nodes.paragraph("", "", nodes.Text("Not drawn yet: "),
                                           _code("make run"), nodes.Text(" draws it into "),
                                           _code(f"results/figures/{name}.png"), nodes.Text(
                                               " with its caption, and this page shows both."))
            sections.append(section)
        return sections


def _rst_nodes(text: str) -> list[nodes.Node]:
    """The body of a reStructuredText text (a generated caption) as docutils nodes."""
    from docutils.core import publish_doctree

    document = publish_doctree(text, settings_overrides={"report_level": 5, "halt_level": 3})
    return list(document.children)


# --- NumPy-style field lines -----------------------------------------------------------------

_SECTIONS = {"parameters", "other parameters", "attributes", "returns", "yields", "raises",
             "warns"}
_FIELD = re.compile(r"^(\s*)([A-Za-z_*][\w*, ]*?) : (.+)$")


def split_field_lines(lines: list[str]) -> list[str]:
    """``name : description`` -> ``name :`` and the description indented below it.

    Only in NumPy sections, on the lines at the section's item indentation. In ``Raises`` the
    name is the exception type: ``Type`` and the description below.
    """
    out: list[str] = []
    section, indent = None, None
    i = 0
    while i < len(lines):
        line = lines[i]
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if following.strip() and set(following.strip()) == {"-"} and line.strip():
            name = line.strip().lower()
            section = name if name in _SECTIONS else None
            indent = None
            out += [line, following]
            i += 2
            continue
        if section and line.strip():
            here = len(line) - len(line.lstrip())
            if indent is None:
                indent = here
            if here < indent:
                section = None
            elif here == indent and (match := _FIELD.match(line)):
                lead, name, text = match.groups()
                out.append(f"{lead}{name}" if section == "raises" else f"{lead}{name} :")
                out.append(f"{lead}    {text}")
                i += 1
                continue
        out.append(line)
        i += 1
    return out


_LITERAL = re.compile(r"(``.*?``)")


def escape_bars(lines: list[str]) -> list[str]:
    """Escape ``|``: the docstrings write absolute values |x| in plain text, which reStructuredText
    would read as substitution references. Inline literals and literal blocks are left alone."""
    out: list[str] = []
    literal_indent = None  # indentation of the paragraph that opened a literal block
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None and line.strip() and indent <= literal_indent:
            literal_indent = None
        if literal_indent is None:
            parts = _LITERAL.split(line)
            line = "".join(part if part.startswith("``") else part.replace("|", r"\|")
                           for part in parts)
            if line.rstrip().endswith("::"):
                literal_indent = indent
        out.append(line)
    return out


#: Attribute docstrings as they were before Napoleon, by name (see _undo_inline_type).
_ATTRIBUTE_LINES: dict[str, list[str]] = {}


def _process_docstring(app: Sphinx, what: str, name: str, obj: Any, options: Any,
                       lines: list[str]) -> None:
    lines[:] = escape_bars(split_field_lines(lines))
    if what in ("attribute", "data", "property"):
        _ATTRIBUTE_LINES[name] = list(lines)


def _undo_inline_type(app: Sphinx, what: str, name: str, obj: Any, options: Any,
                      lines: list[str]) -> None:
    """Napoleon reads an attribute docstring "text: more" as "type: description"; in this
    project such a first line is prose (e.g. "Okabe-Ito colours: distinguishable ..."), so the
    docstring is restored as written."""
    before = _ATTRIBUTE_LINES.pop(name, None)
    if not before or ":" not in before[0]:
        return
    prefix = before[0].split(":", 1)[0].strip()
    if f":type: {prefix}" in (line.strip() for line in lines):
        lines[:] = before


def _missing_reference(app: Sphinx, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve a short Python reference (``:func:`noise``` inside fmrnoise.physics.noise, whose
    function is documented as ``fmrnoise.noise``) to the one object whose name ends with it."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].rpartition(".")[2]
    domain = env.get_domain("py")
    kinds = domain.objtypes_for_role(node["reftype"]) or []
    matches = [name for name, entry in domain.objects.items()
               if name.rpartition(".")[2] == target and entry.objtype in kinds
               and name.startswith("fmrnoise.")]
    if len(matches) != 1:
        return None
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], matches[0],
                               node, contnode)


_FORWARD_REF = re.compile(r"TypeAliasForwardRef\('(\w+)'\)")


def _process_signature(app: Sphinx, what: str, name: str, obj: Any, options: Any,
                       signature: str | None, return_annotation: str | None
                       ) -> tuple[str | None, str | None]:
    """Type aliases by their names also inside generics (``tuple[FloatArray, FloatArray]``)."""
    return tuple(None if text is None else _FORWARD_REF.sub(r"\1", text)
                 for text in (signature, return_annotation))


# --- included README files ---------------------------------------------------------------------

_LINKS = ((re.compile(r"\]\(config/README\.md\)"), "](configuration.md)"),
          (re.compile(r"\]\(docs/([\w-]+\.md)\)"), r"](\1)"),
          (re.compile(r"\]\(docs/images/"), "](images/"))


def _include_read(app: Sphinx, relative_path: Any, parent_docname: str, content: list[str]
                  ) -> None:
    for pattern, replacement in _LINKS:
        content[0] = pattern.sub(replacement, content[0])


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("contract-variables", ContractVariables)
    app.add_directive("contract-axes", ContractAxes)
    app.add_directive("contract-dims", ContractDims)
    app.add_directive("contract-flags", ContractFlags)
    app.add_directive("contract-text", ContractText)
    app.add_directive("stage-sources", StageSources)
    app.add_directive("figure-gallery", FigureGallery)
    app.add_config_value("fmrnoise_figures", "../results/figures", "env")
    app.connect("autodoc-process-docstring", _process_docstring, priority=400)
    app.connect("autodoc-process-docstring", _undo_inline_type, priority=600)
    app.connect("autodoc-process-signature", _process_signature)
    app.connect("missing-reference", _missing_reference)
    app.connect("include-read", _include_read)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
