# Figures: one rule per figure, `figure_<name>`. Each reads only the Zarr stores of the study
# named by its setting `figures.<name>.study` and draws them with `fmrnoise.plots.<name>.draw`;
# the other `figures.<name>` settings reach the script through `params:`, so changing one
# reruns only that figure. A scalar directly under `figures:` (e.g. `B0_GHz: 10.0`) is shared by every
# figure (a figure's own setting wins). Caption templates live in workflow/report/<name>.rst; the
# figure job renders its template with the numbers it computed from the stores into
# results/figures/<name>.caption.rst, the caption `make report` shows.

import importlib
import inspect

from fmrnoise.pipeline.sources import figure_sources
from fmrnoise.plots import FIGURES


def figure_module(name):
    return importlib.import_module(f"fmrnoise.plots.{name}")


def figure_stores(name, optional=False):
    """The stores a figure reads: the parameters of its draw function but settings (those
    with a default, such as boundaries=None, only where the study has them)."""
    parameters = inspect.signature(figure_module(name).draw).parameters.values()
    return [p.name for p in parameters if p.name != "settings"
            and (p.default is inspect.Parameter.empty) != optional]


def study_stores(name, study):
    """The stores of ``study`` that figure ``name`` reads, by name."""
    stages = [*figure_stores(name), *(stage for stage in figure_stores(name, optional=True)
                                      if stage in line_stages(study))]
    return {stage: store(study, stage) for stage in stages}


SHARED_FIGURE_SETTINGS = {key: value for key, value in VALID["figures"].items()
                          if not isinstance(value, dict)}
OVERVIEW_SETTINGS = VALID["figures"].get("overview", {})  # checked with the config


def figure_settings(name):
    """A figure's settings (plain Python values): the shared ones, then its own."""
    return {**SHARED_FIGURE_SETTINGS, **VALID["figures"].get(name, {})}


def figure_inputs(name):
    """The Zarr stores a figure reads, named after the stages, plus the code it executes and
    its caption template."""
    study = figure_settings(name)["study"]
    return {**study_stores(name, study), "code": [str(path) for path in figure_sources(name)],
            "template": str(Path(workflow.basedir) / "workflow" / "report" / f"{name}.rst")}


def figure_caption(name):
    """The caption a figure job writes (the report reads it by its absolute path)."""
    return f"results/figures/{name}.caption.rst"


def all_figures():
    """The figures of the run: the configured ones and the overview of every study."""
    return [*(f"results/figures/{name}.{ext}" for name in FIGURES if name in VALID["figures"]
              for ext in ("png", "pdf")),
            *(f"results/figures/{study}/overview.{ext}" for study in STUDIES
              for ext in ("png", "pdf"))]


report: "../report/workflow.rst"


# What the run computes, before any job runs (also in a dry run): studies, grids, figures.
if workflow.is_main_process:
    print("\n".join(describe(VALID, source_text(LAYERS, os.path.relpath(DEFAULTS_FILE)),
                             run_figures(VALID))), file=sys.stderr)


for _index, _name in enumerate(FIGURES):
    if _name not in VALID["figures"]:
        continue
    _title = f"{_index + 1} {figure_module(_name).TITLE}"

    rule:
        name:
            f"figure_{_name}"
        input:
            **figure_inputs(_name),
        output:
            png=report(
                f"results/figures/{_name}.png",
                caption=os.path.abspath(figure_caption(_name)),
                category="Figures",
                labels={"figure": _title, "study": figure_settings(_name)["study"]},
            ),
            pdf=f"results/figures/{_name}.pdf",
            caption=figure_caption(_name),
        params:
            function=_name,
            settings=figure_settings(_name),
        log:
            f"results/logs/figures/{_name}.log",
        conda:
            "../../environment.yml"
        script:
            "../scripts/figure.py"


rule figure_overview:
    input:
        unpack(lambda wildcards: study_stores("overview", wildcards.study)),
        code=[str(path) for path in figure_sources("overview")],
    output:
        png=report(
            "results/figures/{study}/overview.png",
            caption="../report/overview.rst",
            category="Overviews",
            labels={"study": "{study}"},
        ),
        pdf="results/figures/{study}/overview.pdf",
    params:
        function="overview",
        settings=lambda wildcards: {**SHARED_FIGURE_SETTINGS,
                                    **OVERVIEW_SETTINGS.get(wildcards.study, {})},
    log:
        "results/logs/figures/{study}/overview.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/figure.py"
