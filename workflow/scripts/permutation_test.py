from facesym.joblog import job_logger
from facesym.pipeline.statistics import permutations_job

job_logger(snakemake.log[0])
permutations_job(
    surfaces_file=snakemake.input[0],
    expected=snakemake.params.expected,
    config=snakemake.params.config,
    output=snakemake.output[0],
)
