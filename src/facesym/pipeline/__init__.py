"""The pipeline layer: one module per stage, one function per Snakemake job.

Each function reads its job's inputs, calls the science packages below it and writes its outputs; the workflow's
scripts only unpack ``snakemake.input/params/output`` into these calls, so every job can be run and tested
without Snakemake. Nothing below this package imports it (``tools/import_layers.py`` checks that).

Stages: :mod:`~facesym.pipeline.training` (embedded classifiers), :mod:`~facesym.pipeline.readability`
(the readability check), :mod:`~facesym.pipeline.synthesis` (Eq. 4 expressions and the logit surfaces),
:mod:`~facesym.pipeline.statistics` (permutation tests, Table 2), :mod:`~facesym.pipeline.figures`,
:mod:`~facesym.pipeline.properties` (interventions beyond symmetry), :mod:`~facesym.pipeline.experiment1`
(the associational experiment, Table 1) and :mod:`~facesym.pipeline.deepfn`.
"""
