"""Experiment 1's accuracy by palsy side: left- and right-sided patients counted apart, a user cohort without sides."""

import pandas as pd
import pytest

from facesym.cohort.tables import accuracy_table, palsy_sides


def _predictions(classifier: str) -> pd.DataFrame:
    # p1 (left-sided) right on 3 of 4 images, p2 (right-sided) on 1 of 4, the proband on 4 of 4
    rows = [("p1", "patient", c) for c in (1, 1, 1, 0)] + [("p2", "patient", c) for c in (1, 0, 0, 0)]
    rows += [("h1", "proband", 1)] * 4
    return pd.DataFrame(
        [{"cohort": "synthetic", "training_set": "set", "classifier": classifier, "subject": subject, "group": group,
          "correct": correct} for subject, group, correct in rows]
    )  # fmt: skip


SUBJECTS = pd.DataFrame(
    {"subject": ["h1", "p1", "p2"], "group": ["proband", "patient", "patient"], "palsy": [0, 1, 1],
     "weak_side": ["right", "left", "right"]}
)  # fmt: skip
# face QC left out one image of p2 (and none of p1)
EXCLUDED = pd.DataFrame({"subject": ["p2"], "group": ["patient"]})


def test_patients_are_counted_by_the_side_of_their_palsy():
    table = accuracy_table([_predictions("a"), _predictions("b")], EXCLUDED, palsy_sides(SUBJECTS))
    own = table[table["classifier"] == "a"].set_index(["group", "palsy_side"], drop=False)
    assert own.loc[("patient", "left"), ["n_images", "n_correct", "n_excluded"]].tolist() == [4, 3, 0]
    assert own.loc[("patient", "right"), ["n_images", "n_correct", "n_excluded"]].tolist() == [4, 1, 1]
    assert own.loc[("patient", "left"), "accuracy"] == pytest.approx(0.75)
    whole = table[(table["classifier"] == "a") & table["palsy_side"].isna()].set_index("group")
    assert whole.loc["patient", "n_images"] == 8 and whole.loc["patient", "n_excluded"] == 1
    # probands have no palsy, so no side: one row for their group only
    assert (table.loc[table["group"] == "proband", "palsy_side"]).isna().all()
    pooled = table[(table["classifier"] == "all") & (table["palsy_side"] == "right")]
    assert pooled[["n_classifiers", "n_images", "n_correct"]].iloc[0].tolist() == [2, 8, 2]


def test_a_cohort_without_sides_keeps_one_row_per_group_and_an_empty_side():
    table = accuracy_table([_predictions("a")], EXCLUDED)
    assert table["palsy_side"].isna().all()
    assert table[["classifier", "group"]].values.tolist() == [["a", "patient"], ["a", "proband"],
                                                              ["all", "patient"], ["all", "proband"]]


def test_a_patient_without_a_valid_side_stops_naming_them():
    broken = SUBJECTS.assign(weak_side=["right", "left", "both"])
    with pytest.raises(ValueError, match="subject 'p2'.*'both'"):
        palsy_sides(broken)
    with pytest.raises(ValueError, match="weak_side"):
        palsy_sides(SUBJECTS.drop(columns="weak_side"))
