# Figures: one rule per figure, `figure_<name>`. Each reads only the Zarr stores of the study
# named by its setting `figures.<name>.study` and draws them with `fmrnoise.plots.<name>`; the
# other `figures.<name>` settings reach the script through `params:`, so changing one reruns
# only that figure. A scalar directly under `figures:` (e.g. `B0_GHz: 10.0`) is shared by every
# figure (a figure's own setting wins). Captions (rendered into `make report`) live in
# workflow/report/<name>.rst.

#: figure -> (title in the report, stores it reads = the plotting function's parameters)
FIGURES = {
    "precession_angle": ("1 Precession angle", ("steady_state",)),
    "fmr_line": ("2 FMR line in the noise", ("steady_state", "noise")),
    "temperature_crossover": ("3 Temperature crossover", ("steady_state", "noise")),
    "drive_power": ("4 Drive power", ("steady_state", "noise")),
    "dot_distribution": ("5 Dot distribution", ("steady_state", "distribution", "noise")),
    "phase_diagram": ("6 Phase diagram, normal leads", ("steady_state", "noise")),
    "phase_diagram_magnetic": ("7 Phase diagram, magnetic lead", ("steady_state", "dot_voltage")),
    "bias_sweep": ("8 Bias sweep", ("steady_state", "noise")),
    "thermal_bias": ("9 Thermal bias", ("steady_state", "noise")),
}
#: fmrnoise modules a figure executes besides plots.py (edits rerun the figure)
FIGURE_MODULES = {"dot_distribution": ("distribution",)}

SHARED_FIGURE_SETTINGS = {key: value for key, value in VALID["figures"].items()
                          if not isinstance(value, dict)}
for _name, _settings in VALID["figures"].items():
    if _name in SHARED_FIGURE_SETTINGS:
        continue
    if _name not in FIGURES:
        sys.exit(f"Invalid configuration: figures.{_name}: unknown figure "
                 f"(known: {', '.join(FIGURES)})")
    if _settings.get("study") not in STUDIES:
        sys.exit(f"Invalid configuration: figures.{_name}.study: no study named "
                 f"{_settings.get('study')!r}")


def figure_settings(name):
    """A figure's settings (plain Python values): the shared ones, then its own."""
    return {**SHARED_FIGURE_SETTINGS, **VALID["figures"].get(name, {})}


def figure_inputs(name):
    """The Zarr stores a figure reads, named after the stages, plus the code it executes."""
    study = figure_settings(name)["study"]
    stores = {stage: store(study, stage) for stage in FIGURES[name][1]}
    modules = ("plots", *FIGURE_MODULES.get(name, ()))
    return {**stores, "code": [str(SRC / f"{module}.py") for module in modules]}


def all_figures():
    return [f"results/figures/{name}.{ext}" for name in FIGURES if name in VALID["figures"]
            for ext in ("png", "pdf")]


report: "../report/workflow.rst"


for _name, (_title, _) in FIGURES.items():
    if _name not in VALID["figures"]:
        continue

    rule:
        name:
            f"figure_{_name}"
        input:
            **figure_inputs(_name),
        output:
            png=report(
                f"results/figures/{_name}.png",
                caption=f"../report/{_name}.rst",
                category="Figures",
                labels={"figure": _title, "study": figure_settings(_name)["study"]},
            ),
            pdf=f"results/figures/{_name}.pdf",
        params:
            function=_name,
            settings=figure_settings(_name),
        log:
            f"results/logs/figures/{_name}.log",
        conda:
            "../../environment.yml"
        script:
            "../scripts/figure.py"
