rule distribution:
    input:
        steady_state="results/{study}/steady_state.zarr",
        code=stage_modules("distribution"),
    output:
        store=directory("results/{study}/distribution.zarr"),
    params:
        spec=stage_params("distribution"),
    log:
        "results/logs/{study}/distribution.log",
    threads: stage_threads("distribution")
    conda:
        "../../environment.yml"
    script:
        "../scripts/stage.py"
