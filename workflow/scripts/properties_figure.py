import pandas as pd

from facesym.figures.properties import plot_properties
from facesym.joblog import job_logger

job_logger(snakemake.log[0])
plot_properties(pd.read_csv(snakemake.input[0]), **dict(snakemake.output.items()))
