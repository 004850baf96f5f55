from facesym.joblog import job_logger
from facesym.pipeline.properties import properties_table_job

job_logger(snakemake.log[0])
properties_table_job(
    paper_files=snakemake.input.paper,
    property_files=snakemake.input.properties,
    expression_files=snakemake.input.expressions,
    properties=snakemake.params.properties,
    config=snakemake.params.config,
    outputs=dict(snakemake.output.items()),
    expected=snakemake.params.expected,
)
