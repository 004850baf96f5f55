"""DeepFN stage: one function per job of the DeepFN experiment; the Snakemake scripts only unpack their arguments.

    corpus_job        the rendered corpus (one HDF5 file)
    normalise_job     a learned normalisation's transferred images (deepfn | supervised)
    recognise_job     the protocol for one normalisation: per-subject scores and AU impact scores (CSV)
    table_job         the table, the symmetry table, the bar figure and the example faces
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from facesym.deepfn.corpus import read_corpus, render_corpus, write_corpus
from facesym.deepfn.figures import bars_figure, examples_figure
from facesym.deepfn.normalisation import data_view, equalise, to_unit, transfer_corpus
from facesym.deepfn.protocol import run_protocol
from facesym.deepfn.symmetry import symmetry_scores
from facesym.deepfn.table import deepfn_table, symmetry_table
from facesym.figures.writer import write_figure
from facesym.io import read_h5, write_h5
from facesym.io.atomic import write_text
from facesym.io.records import config_digest
from facesym.io.tables import read_slot_table, write_slot_table
from facesym.seeds import derive_seed
from facesym.stats.score import units

__all__ = ["corpus_job", "normalise_job", "recognise_job", "table_job"]

log = logging.getLogger(__name__)

NORMALISED = "deepfn-normalised"


def _provenance(config: Mapping[str, Any]) -> dict[str, Any]:
    return {"seed": config["seed"], "identities": config["identities"], "deepfn": config["deepfn"]}


def _write_csv(path: str | Path, table: pd.DataFrame) -> None:
    write_text(path, table.to_csv(index=False, float_format="%.6g"))


def corpus_job(*, config: Mapping[str, Any], output: str | Path) -> None:
    """Render the corpus with the procedural (FACS-native) face model."""
    from facesym.face import build_procedural_model

    if config["face_model"]["kind"] != "procedural":
        raise ValueError("the deepfn experiment needs face_model.kind = procedural: its expression components are "
                         "FACS action units, which the exact AU labels come from")
    started, cpu = time.perf_counter(), time.process_time()
    dims = config["identities"]
    model = build_procedural_model(dims["shape_dim"], dims["appearance_dim"], config["face_model"]["left_side"])
    corpus = render_corpus(model, config)
    write_corpus(str(output), corpus, config)
    log.info("corpus: %d subjects x %d images, template %s, rendered in %.1f s (CPU %.1f s)", len(corpus.subjects),
             config["deepfn"]["images_per_subject"], corpus.template, time.perf_counter() - started,
             time.process_time() - cpu)


def normalise_job(*, config: Mapping[str, Any], corpus: str | Path, method: str, output: str | Path) -> None:
    """Train the autoencoder(s) of ``method`` and write every analysed subject's transferred images."""
    started, cpu = time.perf_counter(), time.process_time()
    data = read_corpus(str(corpus))
    seed = derive_seed(config["seed"], "deepfn-autoencoder", method)
    transferred, grids, losses = transfer_corpus(data, method, config["deepfn"]["autoencoder"], seed)
    names, palsy = list(transferred), list(grids)
    datasets = {
        "images": (np.stack([transferred[n] for n in names]), ("subject", "image", "y", "x"), "gray level 0-255"),
        "loss": (losses, ("model", "iteration", "part"), "RMSE of images in [0, 1]"),
    }
    if palsy:
        datasets["grid"] = (np.stack([grids[n] for n in palsy]), ("palsy_subject", "au", "grid_s", "grid_t", "y", "x"),
                            "gray level 0-255")
    write_h5(output, NORMALISED, datasets, seed=seed, config=_provenance(config),
             coords={"subject": names, "palsy_subject": palsy, "part": ["subject", "template"]},
             attrs={"method": method, "template": data.template})
    log.info("%s: %d subjects transferred onto %s in %.1f s (CPU %.1f s)", method, len(names), data.template,
             time.perf_counter() - started, time.process_time() - cpu)


def _transferred(path: str | Path, method: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    data = read_h5(path, kind=NORMALISED)
    if data.attrs["method"] != method:
        raise ValueError(f"{path}: holds the {data.attrs['method']} normalisation, expected {method}")
    images = {str(n): data.data["images"][i] for i, n in enumerate(data.coords["subject"])}
    grids = {str(n): data.data["grid"][i] for i, n in enumerate(data.coords["palsy_subject"])}
    return images, grids


def recognise_job(*, config: Mapping[str, Any], corpus: str | Path, normalised: str | Path | None,
                  normalisation: str, scores: str | Path, symmetry: str | Path, slot: Mapping[str, Any]) -> None:
    """Run the protocol for one normalisation; write per-subject scores and the AU impact scores, both with
    ``slot``'s provenance columns (:mod:`facesym.io.tables`)."""
    started, cpu = time.perf_counter(), time.process_time()
    data = read_corpus(str(corpus))
    transferred, grids = _transferred(normalised, normalisation) if normalised else (None, None)
    view = data_view(data, normalisation, transferred, grids)
    table, models = run_protocol(view, data.subjects, config, normalisation)
    sym = symmetry_scores(models, view.grid, list(config["deepfn"]["action_units"]), config["statistics"],
                          normalisation)
    write_slot_table(scores, table, slot, key="normalisation")
    write_slot_table(symmetry, sym, slot, key="normalisation")
    log.info("%s: %d trained recognisers, %d subject scores in %.1f s (CPU %.1f s)", normalisation,
             table[table["condition"] != "palsy"].groupby(["condition", "repetition", "train_group"]).ngroups,
             len(table),
             time.perf_counter() - started, time.process_time() - cpu)


def _examples(data, normalised: Mapping[str, str | Path], order: Sequence[str]) -> tuple:
    """One image of a subject per (skin, dataset) cell under every normalisation."""
    learned = {method: _transferred(path, method)[0] for method, path in normalised.items()}
    chosen, labels = [], []
    for subject in data.subjects:
        cell = (subject.groups.get("skin"), subject.groups.get("dataset"))
        if subject.role == "healthy" and cell not in [c for c, _ in chosen]:
            chosen.append((cell, subject))
    # The most active image of each subject shows the expression transfer best.
    picks = [(s, int(np.argmax(data.intensity[s.name].sum(axis=1)))) for _, s in chosen]
    columns: dict[str, list[np.ndarray]] = {}
    for name in order:
        images = []
        for subject, index in picks:
            if name == "none":
                images.append(to_unit(data.images[subject.name][index]))
            elif name == "histeq":
                images.append(equalise(data.images[subject.name][index][None])[0])
            elif name == "oracle":
                images.append(to_unit(data.pairs[subject.name][index]))
            else:
                images.append(to_unit(learned[name][subject.name][index]))
        columns[name] = images
    for subject, _ in picks:
        labels.append(f"{subject.name}\n{subject.groups['skin']}, {subject.groups['face_shape']}, "
                      f"data {subject.groups['dataset']}")
    return columns, labels, to_unit(data.images[data.template][picks[0][1]] if picks else data.images[data.template][0])


def table_job(*, config: Mapping[str, Any], scores: Sequence[str | Path], symmetry: Sequence[str | Path],
              expected: Sequence[Mapping[str, Any]], corpus: str | Path, normalised: Mapping[str, str | Path],
              table: str | Path,
              symmetry_table_path: str | Path, figure: str | Path, figure_values: str | Path,
              examples: str | Path) -> None:
    """Aggregate every normalisation's scores into the table, the symmetry table and the figures.

    ``scores`` and ``symmetry`` hold one file per normalisation, ``expected`` the slot of each (in the same
    order); a file of another normalisation or config stops the job, naming it
    (:func:`facesym.io.tables.read_slot_table`).
    """
    provenance = {"seed": config["seed"], "config_digest": config_digest(_provenance(config))}

    def read(paths: Sequence[str | Path]) -> pd.DataFrame:
        pairs = zip(paths, expected, strict=True)
        tables = [read_slot_table(path, slot, key="normalisation") for path, slot in pairs]
        return pd.concat(tables, ignore_index=True)

    all_scores = read(scores)
    result = deepfn_table(all_scores, provenance)
    _write_csv(table, result)
    sym = read(symmetry)
    _write_csv(symmetry_table_path, symmetry_table(sym, provenance, units(config["statistics"]["spacing"])))
    write_figure(bars_figure(result), png=figure, values=result, csv=figure_values)
    data = read_corpus(str(corpus))
    order = list(dict.fromkeys(all_scores["normalisation"]))
    columns, labels, template = _examples(data, normalised, order)
    write_figure(examples_figure(columns, labels, template), png=examples)
    log.info("table: %d rows; gaps (none): %s", len(result),
             result[result["normalisation"] == "none"].set_index("condition")["gap"].round(2).to_dict())
