rule sweep:
    input:
        steady_state="results/{study}/steady_state.zarr",
        code=stage_modules("sweep"),
    output:
        store=directory("results/{study}/sweep.zarr"),
    params:
        spec=stage_params("sweep"),
    log:
        "results/logs/{study}/sweep.log",
    threads: stage_threads("sweep")
    conda:
        "../../environment.yml"
    script:
        "../scripts/stage.py"
