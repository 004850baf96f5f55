from facesym.joblog import job_logger
from facesym.pipeline.statistics import aggregate_scores_job

job_logger(snakemake.log[0])
aggregate_scores_job(
    permutation_files=snakemake.input.permutations,
    expression_files=snakemake.input.expressions,
    surface_files=snakemake.input.surfaces,
    checks_file=snakemake.input.checks,
    groups=snakemake.params.groups,
    config=snakemake.params.config,
    outputs=dict(snakemake.output.items()),
    expected=snakemake.params.expected,
)
