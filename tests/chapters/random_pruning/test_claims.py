"""The chapter's claims table as data: ids, kinds, criteria with their reasons, scales, and the
estimates and sentences that go with it, on small frames with hand-computed numbers."""
from __future__ import annotations

import pandas as pd
import pytest

from pruninglib.book import claims
from pruninglib.chapters.random_pruning import after_training, parity, report, verdicts
from pruninglib.chapters.random_pruning import claims as chapter

PARAMS = {"methods": ["magnitude", "snip", "synflow"], "ratios": ["uniform", "erk"],
          "moderate_density": 0.1, "width_multipliers": [0.5, 1.0, 2.0],
          "width_density": 0.05, "width_methods": ["erk", "snip"], "ntk_depth": 3,
          "ntk_widths": [64, 256], "ntk_keeps": [1.0, 0.5], "ntk_seeds": 2, "ntk_inputs": 8,
          "model": "lenet_300_100", "dataset": "fashion_mnist", "train_subset": 2000,
          "epochs": 1, "seeds": 2}


def test_declared_rows_ids_kinds_and_scales():
    rows = chapter.declared(PARAMS)
    assert [c.id for c in rows] == ["B2", "B2-PaI", "B3a", "B3b", "F1a", "F1b", "F1c", "F2a",
                                    "F2b", "F2c", "SUa", "L1", "N1", "N2a", "N2b", "N3",
                                    "N4"]
    kinds = {c.id: c.kind for c in rows}
    assert [i for i, k in kinds.items() if k == claims.CHECK] == ["N1", "N2a"]
    assert [i for i, k in kinds.items() if k == claims.NOT_MEASURED_KIND] == ["N4"]
    for c in rows:
        assert c.scale is not None and c.scale.paper and c.scale.ours
        if c.kind != claims.NOT_MEASURED_KIND:
            assert c.criterion.why, c.id
        if c.kind != claims.CLAIM:
            assert c.reason, c.id
    by_id = {c.id: c for c in rows}
    assert "SNIP" in by_id["F1b"].statement and "0.1" in by_id["B2"].metric
    assert by_id["SUa"].statement.endswith("SNIP.")  # only the Su et al. methods that ran
    n1 = by_id["N1"].criterion
    # depth + 1, and half the way to the other reading, q^depth
    assert (n1.kind, n1.threshold, n1.tolerance) == ("within", 4.0, 0.5)
    assert "q^3" in n1.why
    assert "q^4" in by_id["N1"].statement and "256" in by_id["N1"].metric
    assert by_id["B2"].scale.ours == "LeNet-300-100 · fashion_mnist 2000 · 1 ep · 2 seeds"
    assert "magnitude pruning of the trained" in by_id["B2"].metric
    assert "fine-tuned 1 ep" in by_id["B2"].metric
    assert by_id["B2-PaI"].paper == chapter.EXTENSION  # never counted as Blakeney et al.'s
    assert {by_id[i].paper for i in ("B2", "B3a", "B3b")} == {chapter.BLAKENEY}
    assert by_id["N3"].scale.ours.startswith("3-hidden-layer ReLU MLP, widths 64–256")


def test_declared_refuses_an_empty_list_naming_it():
    with pytest.raises(ValueError, match=r"width_multipliers=\[\] is not allowed"):
        chapter.declared({**PARAMS, "width_multipliers": []})


def test_n3_tests_consistency_with_a_linear_bound():
    n3 = {c.id: c for c in chapter.declared(PARAMS)}["N3"]
    at = lambda mean, half: claims.Estimate(mean, mean - half, mean + half, 5)
    assert n3.verdict(at(0.6, 0.2)) == claims.REPRODUCED     # sub-linear: consistent
    assert n3.verdict(at(1.1, 0.3)) == claims.PARTLY         # mean within the grid tolerance
    assert n3.verdict(at(2.0, 0.3)) == claims.NOT_REPRODUCED  # clearly super-linear


def _runs() -> pd.DataFrame:
    rows = []
    accuracy = {("magnitude", 0, 0): 0.80, ("snip", 0, 0): 0.84, ("synflow", 0, 0): 0.82,
                ("magnitude", 1, 0): 0.79, ("snip", 1, 0): 0.85, ("synflow", 1, 0): 0.81,
                ("magnitude", 0, 1): 0.78, ("snip", 0, 1): 0.83, ("synflow", 0, 1): 0.80}
    for seed in (0, 1):
        for m in ("magnitude", "snip", "synflow"):
            found = accuracy[(m, seed, 0)]
            rows += [(m, False, False, seed, found),
                     (m, True, False, seed, found - 0.01 * (seed + 1)),
                     (m, False, True, seed, found + 0.02)]
        rows += [("uniform", False, False, seed, 0.80 + 0.02 * seed),
                 ("smart_ratio", False, False, seed, 0.83)]
    frame = pd.DataFrame(rows, columns=["prune.method", "prune.shuffle", "prune.reinit",
                                        "seed", "test_accuracy"])
    return parity.with_variants(frame.assign(**{"prune.density": 0.1, "prune.invert": False}))


def _ntk() -> pd.DataFrame:
    rows = []
    for w in (64, 256):
        for q in (1.0, 0.5):
            for s in (0, 1):
                collapsed = (w, q, s) == (64, 0.5, 1)
                nan = float("nan")
                rows.append({"width": w, "keep": q, "seed": s, "collapsed": collapsed,
                             "scale": nan if collapsed else (1 + 0.1 * s) * q ** 4,
                             "relerr_rescaled": nan if collapsed else 2 * (w * q) ** -0.5,
                             "scale_rescaled": nan if collapsed else 1.0 + 0.1 * s})
    return pd.DataFrame(rows)


def _compared(runs: pd.DataFrame) -> pd.DataFrame:
    """Magnitude pruning after training and the networks trained from scratch, seeds 0, 1."""
    accuracy = {after_training.MAGNITUDE: (0.86, 0.87),
                after_training.LABELS["random"]: (0.83, 0.84),
                after_training.LABELS["reinit"]: (0.85, 0.83)}
    after = pd.DataFrame([{"variant": v, "prune.density": 0.1, "seed": s,
                           "test_accuracy": a} for v, accs in accuracy.items()
                          for s, a in enumerate(accs)])
    return after_training.with_uniform(runs, after)


def _width_gaps() -> pd.DataFrame:
    return pd.DataFrame({"model.width": [0.5, 0.5, 2.0, 2.0] * 2,
                         "seed": [0, 1, 0, 1] * 2,
                         "reference": ["erk"] * 4 + ["snip"] * 4,
                         "difference": [10.0, 12.0, 4.0, 5.0, 3.0, 3.0, 3.5, 2.5]})


def test_estimates_of_every_measured_row():
    runs = _runs()
    results = verdicts.estimates(PARAMS, runs, _width_gaps(), _ntk(), _compared(runs))
    measured = [c.id for c in chapter.declared(PARAMS) if c.kind != claims.NOT_MEASURED_KIND]
    assert sorted(results) == sorted(measured)
    # B2: uniform (80, 82 %) − magnitude after training (86, 87 %): -6, -5 pp
    assert (results["B2"].mean, results["B2"].n) == (pytest.approx(-5.5), 2)
    # B3a: random with its layer counts (83, 84) − (86, 87): -3, -3; B3b: -1, -4
    assert results["B3a"].mean == pytest.approx(-3.0)
    assert results["B3b"].mean == pytest.approx(-2.5)
    # B2-PaI: the best other by mean is SNIP (84.5 % over seeds); uniform − SNIP: -4, -3 pp
    b2 = results["B2-PaI"]
    assert (b2.mean, b2.n, b2.entered, b2.total) == (pytest.approx(-3.5), 2, 4, 4)
    assert "vs snip" in b2.setting
    assert results["F1b"].mean == pytest.approx(-1.5)
    assert results["F2c"].mean == pytest.approx(2.0)
    assert results["SUa"].mean == pytest.approx((83 - 84) / 2 + (83 - 85) / 2)
    # L1: erk gap at x2 minus at x0.5: -6, -7
    assert results["L1"].mean == pytest.approx(-6.5)
    # NTK: exact power laws; one collapsed cell (width 64) is left out and counted
    assert results["N1"].mean == pytest.approx(4.0)
    assert (results["N1"].entered, results["N1"].total) == (4, 4)  # widest width only
    assert results["N2a"].mean == pytest.approx(-0.5)
    assert (results["N2a"].entered, results["N2a"].total, results["N2a"].what) == (7, 8,
                                                                                   "cells")
    assert results["N2b"].mean == pytest.approx(1.05)  # q < 1 at the widest width
    assert results["N3"].mean == pytest.approx(1.0)


def test_report_sentences_carry_this_runs_numbers():
    runs = _runs()
    checks = parity.sanity_checks(runs, ["snip"])
    text = report.lowest_density_lines(checks, ["snip"])
    assert text.startswith("At the lowest density, 0.1:")
    assert "shuffled -1.5 ± 6.4 pp (2 seeds)" in text and "re-initialised 2.0" in text
    _, gaps = parity.against_best(runs, PARAMS["methods"], ["uniform"])
    gap_summary = parity.summarise(gaps)
    lines = report.random_masks_lines(gap_summary, parity.summarise(checks), ["uniform"])
    assert "more than 2 pp behind the best found mask at density 0.1 (ρ = 10;" in lines
    assert "by -1.5 to -1.5 pp" in lines
    assert report.behind({"erk": None}, "erk").startswith("within 2 pp")
    results = verdicts.estimates(PARAMS, runs, _width_gaps(), _ntk(), _compared(runs))
    summary = report.summary(PARAMS, results, gap_summary, _width_gaps())
    assert "trained from scratch is -5.5 ± 6.4 pp (2 seeds) (B2)" in summary
    assert "uniform random mask is -3.5 ± 6.4 pp (2 seeds) (B2-PaI)" in summary
    assert "SNIP: 0.0 ± 6.4 pp" in summary  # snip: +0.5 and -0.5
    assert "c/b = 1.00 ± 0.00 (2 seeds)" in summary


def test_glue_values_name_the_numbers_the_solutions_quote():
    runs = _runs()
    results = verdicts.estimates(PARAMS, runs, _width_gaps(), _ntk(), _compared(runs))
    values = report.glue_values(PARAMS, results)
    assert all(name.startswith("random_pruning_") for name in values)
    assert values["random_pruning_masked"] == 4 and values["random_pruning_widest"] == 256
    assert values["random_pruning_b2"] == pytest.approx(-5.5)
    assert values["random_pruning_n1_k"] == pytest.approx(4.0)


def test_predicted_half_width_scales_with_t_over_root_n():
    # 3 seeds, half-width 4.303: sd · t_2 / √3 with sd = √3; at 10 seeds: √3 · 2.262 / √10
    estimate = claims.Estimate.from_samples([-(3 ** 0.5), 0.0, 3 ** 0.5])
    sd = 3 ** 0.5
    assert estimate.half_width == pytest.approx(4.303 * sd / 3 ** 0.5)
    assert report.predicted_half_width(estimate, 10) == pytest.approx(2.262 * sd / 10 ** 0.5)
    assert report.predicted_half_width(estimate, 1) == float("inf")
