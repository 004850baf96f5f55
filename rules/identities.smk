rule sample_identity:
    output:
        IDENTITY,
    log:
        "logs/identities/{identity}.log",
    localrule: True
    conda:
        "../envs/facesym.yaml"
    params:
        seed=config["seed"],
        dims=job_config("identities")["identities"],
    script:
        "../workflow/scripts/sample_identity.py"
