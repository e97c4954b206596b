rule noise:
    input:
        steady_state="results/{study}/steady_state.zarr",
        code=stage_modules("noise"),
    output:
        store=directory("results/{study}/noise.zarr"),
    params:
        spec=stage_params("noise"),
    log:
        "results/logs/{study}/noise.log",
    threads: stage_threads("noise")
    conda:
        "../../environment.yml"
    script:
        "../scripts/stage.py"
