"""The documentation in docs/: it builds without warnings, it shows the data contract as the code
defines it, its reference tables agree with the code, and the repository cites only itself."""

import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from fmrnoise import Model, kernel, noise, steady_states
from fmrnoise.physics.steady_state import Stability, Status
from fmrnoise.pipeline.contract import OPTION_VARIABLES, VARIABLES

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
THEORY = DOCS / "theory.md"


#: A figure "drawn" for the gallery test: its caption as a figure job writes it.
GALLERY_CAPTION = "**FMR detected by the noise.** Full width at half maximum 0.0958 E0."


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    """The documentation built as `make docs` builds it (warnings are errors), into a temporary
    directory; the figure gallery reads a results directory in which only `fmr_line` is drawn."""
    from matplotlib.figure import Figure

    out = tmp_path_factory.mktemp("docs_html")
    figures = tmp_path_factory.mktemp("figures")
    Figure(figsize=(2, 1)).savefig(figures / "fmr_line.png")
    (figures / "fmr_line.caption.rst").write_text(GALLERY_CAPTION)
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-D", f"fmrnoise_figures={figures}", "-d", str(out / ".doctrees"), str(DOCS),
         str(out)],
        capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def page_text(html: Path, page: str) -> str:
    """The visible text of a built page, tags removed and whitespace collapsed."""
    text = (html / f"{page}.html").read_text(encoding="utf-8")
    text = re.sub(r"<script.*?</script>", " ", text, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", text)))


@pytest.mark.slow  # a Sphinx build
def test_docs_build_without_warnings(html):
    for page in ("index", "usage", "configuration", "theory", "contract", "architecture", "api",
                 "gallery"):
        assert (html / f"{page}.html").is_file(), page


@pytest.mark.slow  # a Sphinx build
def test_gallery_shows_every_figure_its_image_and_caption_or_how_to_draw_it(html):
    import importlib

    from fmrnoise.plots import FIGURES

    text = page_text(html, "gallery")
    for index, name in enumerate(FIGURES, 1):
        title = importlib.import_module(f"fmrnoise.plots.{name}").TITLE
        assert f"{index}. {title}" in text, name
    assert "Full width at half maximum 0.0958 E0." in text  # the drawn one: its caption
    assert text.count("Not drawn yet") == len(FIGURES) - 1  # the others: how to draw them
    images = re.findall(r'<img [^>]*src="_images/([^"]+)"', (html / "gallery.html").read_text())
    assert images == ["fmr_line.png"]
    # the README's image of the field-swept figure reaches the usage page
    assert "field_swept_fmr" in (html / "usage.html").read_text()


@pytest.mark.slow  # a Sphinx build
def test_contract_page_lists_every_variable_with_its_units(html):
    text = page_text(html, "contract")
    variables = [*((stage, name, var) for stage, table in VARIABLES.items()
                   for name, var in table.items()),
                 *((stage, name, var) for (stage, _), table in OPTION_VARIABLES.items()
                   for name, var in table.items())]
    for stage, name, var in variables:
        row = f"{name} axes{''.join(', ' + d for d in var.dims)} {var.dtype} {var.units} "
        assert row in text, f"{stage}.{name}: no row {row!r} on the contract page"
    for member in [*Stability, *Status]:
        assert f"{int(member)} {member.name.lower()} " in text, member


@pytest.mark.slow  # a Sphinx build
def test_api_page_documents_the_public_api(html):
    import fmrnoise

    text = (html / "api.html").read_text(encoding="utf-8")
    for name in fmrnoise.__all__:
        if name != "__version__":
            assert f'id="fmrnoise.{name}"' in text, name


def test_theory_keeps_the_section_numbers_the_code_cites():
    headings = re.findall(r"^## (\d+)\. ", THEORY.read_text(encoding="utf-8"), re.M)
    assert headings == [str(n) for n in range(1, 13)]


def reference_table(label: str) -> list[list[str]]:
    """Rows of the first Markdown table after the paragraph that starts with **<label>."""
    text = THEORY.read_text(encoding="utf-8")
    start = text.index(f"**{label}")
    lines = text[start:].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[first + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def number(cell: str) -> float:
    """A table cell as a float: −, π/2 and a trailing remark are understood."""
    cell = cell.split(" (")[0].replace("−", "-")
    return np.pi / 2 if cell == "π/2" else float(cell)


def test_theory_r1_table_matches_the_steady_states():
    for row in reference_table("R1."):
        omega_d, theta, psi, trace, det = map(number, row)
        states = steady_states(Model(omega_d=omega_d))
        assert_allclose([states.theta[0], states.psi[0], states.trace[0], states.det[0]],
                        [theta, psi, trace, det], rtol=1e-10)


def test_theory_r2_and_r4_tables_match_the_noise():
    normal = {"gamma_l_up": 0.3, "gamma_l_down": 0.3, "gamma_r_up": 0.5, "gamma_r_down": 0.5}
    for row in reference_table("R2."):
        T, theta, phidot, S = map(number, row)
        assert_allclose(noise(Model(T=T, **normal), theta, phidot).S, S, rtol=1e-10)
    for row in reference_table("R4."):
        T, V, theta, phidot, S, _ = map(number, row)
        model = Model(T=T, mu_l=V / 2, mu_r=-V / 2, **normal)
        assert_allclose(noise(model, theta, phidot).S, S, rtol=1e-10)


def test_theory_r9_table_matches_the_kernel():
    for row in reference_table("R9."):
        x, T, K = map(number, row)
        assert_allclose(kernel(x, T), K, rtol=1e-10)


# The repository must stand alone: no tracked file may point at the specification it was built
# from, which a clone does not have (the names are assembled so that this file does not match).
OUTSIDE = ("physics" + ".md", "design" + ".md", "tooling" + ".md", "/work/" + "shared",
           "../" + "shared")


def test_no_tracked_file_names_a_path_outside_the_repository():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    found = []
    for name in filter(None, files):
        path = ROOT / name
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            found += [f"{name}:{lineno}: {pattern}" for pattern in OUTSIDE if pattern in line]
    assert not found, "\n".join(found)
