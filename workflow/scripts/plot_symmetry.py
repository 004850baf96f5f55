from facesym.figures.jobs import symmetry_figure_job
from facesym.joblog import job_logger

job_logger(snakemake.log[0])
symmetry_figure_job(surfaces_files=list(snakemake.input), outputs=dict(snakemake.output.items()))
