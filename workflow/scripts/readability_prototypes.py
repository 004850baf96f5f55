from facesym.joblog import job_logger
from facesym.pipeline.readability import prototype_pngs_job

job_logger(snakemake.log[0])
prototype_pngs_job(
    config=snakemake.params.config,
    images=snakemake.output.images,
    labels_csv=snakemake.output.labels,
    info=snakemake.output.info,
)
