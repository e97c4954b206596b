def figure_inputs(name):
    """The Zarr stores a figure reads (its study is a figure setting)."""
    study = VALID["figures"][name]["study"]
    return {"steady_state": store(study, "steady_state"), "noise": store(study, "noise")}


def all_figures():
    return [
        f"results/figures/{name}.{ext}"
        for name, settings in VALID["figures"].items()
        if settings.get("study") in STUDIES
        for ext in ("png", "pdf")
    ]


rule figure_fmr_line:
    input:
        unpack(lambda wildcards: figure_inputs("fmr_line")),
        code=str(SRC / "plots.py"),
    output:
        png=report(
            "results/figures/fmr_line.png",
            caption="../report/fmr_line.rst",
            category="Figures",
        ),
        pdf="results/figures/fmr_line.pdf",
    params:
        settings=lambda wildcards: VALID["figures"]["fmr_line"],
    log:
        "results/logs/figures/fmr_line.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/figure_fmr_line.py"
