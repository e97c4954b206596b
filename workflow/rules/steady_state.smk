rule steady_state:
    input:
        code=stage_modules("steady_state"),
    output:
        store=directory("results/{study}/steady_state.zarr"),
    params:
        spec=stage_params("steady_state"),
    log:
        "results/logs/{study}/steady_state.log",
    threads: stage_threads("steady_state")
    conda:
        "../../environment.yml"
    script:
        "../scripts/stage.py"
