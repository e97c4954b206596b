rule dot_voltage:
    input:
        steady_state="results/{study}/steady_state.zarr",
        code=stage_modules("dot_voltage"),
    output:
        store=directory("results/{study}/dot_voltage.zarr"),
    params:
        spec=stage_params("dot_voltage"),
    log:
        "results/logs/{study}/dot_voltage.log",
    threads: stage_threads("dot_voltage")
    conda:
        "../../environment.yml"
    script:
        "../scripts/stage.py"
