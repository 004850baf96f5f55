"""DeepFN on the FACS face: action-unit recognition across groups, face normalisation, and symmetry.

Seed 004 (Hernandez et al., DeepFN) measures how facial action unit (AU) recognisers generalise across people,
gender, skin type and dataset, and normalises every face onto one template face with a self-supervised
two-decoder autoencoder. Here the data come from the procedural face model, so AU labels are exact and the groups
are ours to define; palsy (a weakened left half) adds a group neither the paper nor its datasets have.

Modules, one job each:

``corpus``         subjects, groups, random AU trials, exact labels, the rendered "datasets"
``recogniser``     the LeNet-5-like multi-label AU network (binary cross-entropy, threshold 0.5)
``normalisation``  histogram equalisation, augmentation and the two-decoder autoencoder (self-supervised and
                   supervised)
``protocol``       within- and cross-group splits, repetitions, the score (mean of F1 and accuracy over AUs)
``symmetry``       impact scores of the AU outputs along s
``table``          the condition × normalisation table with paired tests
``figures``        the bar chart (DeepFN's Figs. 3/5-7) and example normalised faces
``jobs``           one function per pipeline job (files in, files out)
"""
