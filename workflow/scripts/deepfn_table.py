from facesym.device import limit_cpu_threads
from facesym.joblog import job_logger
from facesym.pipeline.deepfn import table_job

job_logger(snakemake.log[0])
limit_cpu_threads(snakemake.threads)
table_job(
    config=snakemake.params.config,
    scores=snakemake.input.scores,
    symmetry=snakemake.input.symmetry,
    expected=snakemake.params.expected,
    corpus=snakemake.input.corpus,
    normalised=dict(zip(snakemake.params.methods, snakemake.input.normalised, strict=True)),
    table=snakemake.output.table,
    symmetry_table_path=snakemake.output.symmetry,
    figure=snakemake.output.figure,
    figure_values=snakemake.output.figure_values,
    examples=snakemake.output.examples,
)
