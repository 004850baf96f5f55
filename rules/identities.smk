rule sample_identity:
    output:
        "results/identities/{identity}.json",
    params:
        seed=config["seed"],
        # only the dimensions: a change of the identity count must not rerun existing identities
        dims={k: v for k, v in config["identities"].items() if k != "count"},
    log:
        "logs/identities/{identity}.log",
    conda:
        "../envs/facesym.yaml"
    localrule: True
    script:
        "../workflow/scripts/sample_identity.py"
