from facesym.joblog import job_logger
from facesym.pipeline.experiment1 import accuracy_job

job_logger(snakemake.log[0])
accuracy_job(
    predictions=snakemake.input.predictions,
    qc=snakemake.input.qc,
    output=snakemake.output[0],
    # the synthetic cohort's subjects table knows each patient's palsy side; a user manifest has none
    subjects=snakemake.input.subjects or None,
    expected=snakemake.params.expected,
)
