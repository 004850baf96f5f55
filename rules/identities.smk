rule sample_identity:
    output:
        "results/identities/{identity}.json",
    params:
        seed=config["seed"],
        dims=job_config("identities")["identities"],
    log:
        "logs/identities/{identity}.log",
    conda:
        "../envs/facesym.yaml"
    localrule: True
    script:
        "../workflow/scripts/sample_identity.py"
