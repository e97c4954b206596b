rule boundaries:
    input:
        steady_state="results/{study}/steady_state.zarr",
        code=stage_modules("boundaries"),
    output:
        store=directory("results/{study}/boundaries.zarr"),
    params:
        spec=stage_params("boundaries"),
    log:
        "results/logs/{study}/boundaries.log",
    threads: stage_threads("boundaries")
    conda:
        "../../environment.yml"
    script:
        "../scripts/stage.py"
