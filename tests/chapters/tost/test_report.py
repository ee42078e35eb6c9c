"""The ToST chapter's tables, findings and cost note, on a frame with known gains."""
from __future__ import annotations

import pytest

from pruninglib.chapters.tost import experiment, report

from .conftest import TINY


def test_gain_table_is_the_mean_over_seeds_per_sparsity(runs_frame):
    table = report.gain_table(experiment.gains(runs_frame))
    assert list(table.columns) == [90.0, 99.0]
    assert table.loc[("random", "all (ToST)"), 99.0] == pytest.approx(2.1)
    assert table.loc[("snip", "ghost skips"), 90.0] == pytest.approx(0.1)
    assert table.loc[("snip", "fan-in rescaling"), 99.0] == pytest.approx(4.1)


def test_baseline_table_is_the_default_accuracy_in_percent(runs_frame):
    table = report.baseline_table(runs_frame)
    assert table.loc["random", 90.0] == pytest.approx(51.0)
    assert table.loc["snip", 90.0] == pytest.approx(61.0)
    assert table.loc["snip", 99.0] == pytest.approx(51.0)


def test_findings_give_the_numbers_of_the_frame(design, runs_frame):
    text = report.findings(design, experiment.ProtocolRuns(runs_frame.head(0), runs_frame))
    lines = text.splitlines()
    assert lines[0] == ("- At 99 % sparsity, all tricks together change test accuracy by "
                        "+2.10 pp (random), +3.10 pp (SNIP) (mean over seeds).")
    assert lines[1].startswith("- Averaged over the random, SNIP masks at sparsities 99 % "
                               "(where every trick ran), the protocol with the highest")
    assert "highest mean gain is *fan-in rescaling* (+3.60 pp) and the lowest *ghost " \
           "skips* (+1.60 pp)" in lines[1]
    # 'all' against its only part among the protocols, ghost skips: 2.6 - 1.6 per seed
    assert "(*ghost skips*, chosen by its mean gain" in lines[2]
    assert lines[2].endswith(": 1.00 ± 0.00 pp (3 seeds).")
    assert lines[3] == "- No run ended at chance level."


def test_the_best_part_is_chosen_by_its_mean(runs_frame):
    # with fan-in in the recipe, fan-in (mean 3.6) beats ghost skips (1.6) as competitor
    design = experiment.Design.from_parameters({**TINY, "recipe": ["ghost_skips", "fan_in"]})
    text = report.findings(design, experiment.ProtocolRuns(runs_frame.head(0), runs_frame))
    line = text.splitlines()[2]
    assert "(*fan-in rescaling*, chosen by its mean gain" in line
    assert line.endswith(": -1.00 ± 0.00 pp (3 seeds).")


def test_runs_at_chance_are_counted(design, runs_frame):
    runs = runs_frame.copy()
    runs.loc[(runs["protocol"] == "all") & (runs["seed"] == 0), "test_accuracy"] = 0.25
    text = report.findings(design, experiment.ProtocolRuns(runs.head(0), runs))
    assert text.splitlines()[-1] == ("- Runs that ended at chance level (test accuracy ≤ 26 %): "
                                     "2 with all (ToST) (random mask); "
                                     "2 with all (ToST) (SNIP mask).")


def test_cost_note_counts_the_runs(design, runs_frame):
    result = experiment.ProtocolRuns(runs_frame.head(3), runs_frame)
    note = report.cost_note(design, result, profile="smoke", wall_seconds=90, load=1.5, cpus=2)
    assert note.startswith(f"**Cost.** This page ran {len(runs_frame) + 3} trainings "
                           "(default and all: 2 masks × 2 sparsities × 3 seed(s); 2 single "
                           "tricks: 2 mask(s) × 2 sparsities × 3 seed(s); plus the dense "
                           "reference) in the `smoke` profile")
    assert f"is {6 * (len(runs_frame) + 3) / 60:.1f} min" in note
    assert "took 1.5 min of wall time" in note and "1.5 on 2 CPUs" in note


def test_precondition_gives_dense_default_and_the_paired_gap(design, runs_frame, dense_frame):
    text = report.precondition(design, experiment.ProtocolRuns(dense_frame, runs_frame))
    assert "reaches 81.0 % test accuracy" in text            # 0.80, 0.81, 0.82
    assert "at 99 % sparsity the sparse networks reach 51.0 % (random), 51.0 % (SNIP)" in text
    assert "is 30.00 ± 0.00 pp (3 seeds)" in text


def test_downloads_are_tidy_frames_of_the_runs(runs_frame, dense_frame):
    tables = report.downloads(experiment.ProtocolRuns(dense_frame, runs_frame))
    assert list(tables) == ["runs", "dense", "gains"]
    assert list(tables["runs"].columns) == ["protocol", "prune.method", "prune.density", "seed",
                                            "test_accuracy", "prune_seconds", "train_seconds"]
    assert len(tables["runs"]) == len(runs_frame)
    assert set(tables["dense"]["protocol"]) == {"dense"}
    assert len(tables["gains"]) == 3 * 2 * 2 * 3


def test_glue_values_are_the_numbers_of_the_runs(design, runs_frame, dense_frame, monkeypatch):
    from pruninglib.book import claims as book_claims
    from pruninglib.chapters.tost import claims

    monkeypatch.delenv(book_claims.CHAPTER_ENV, raising=False)
    result = experiment.ProtocolRuns(dense_frame, runs_frame)
    values = report.glue_values(design, result, claims.estimates(design, result))
    assert values["tost_dense_acc"] == pytest.approx(81.0)
    assert values["tost_gap"] == pytest.approx(30.0)
    assert values["tost_all_gain_top"] == pytest.approx((2.1 + 3.1) / 2)  # all at 99 %
    assert values["tost_t1_mean"] == pytest.approx(2.1)                   # T1-random
    assert values["tost_t1_half"] == pytest.approx(4.303 * 0.1 / 3 ** 0.5, rel=1e-3)
    assert values["tost_t1_half6"] == pytest.approx(2.571 * 0.1 / 6 ** 0.5, rel=1e-3)
    assert values["tost_seeds"] == 3
    assert all(name.startswith("tost_") for name in values)
