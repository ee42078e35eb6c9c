"""The chapter's claims table as data: ids, kinds, criteria with their reasons, scales, and the
estimates and sentences that go with it, on small frames with hand-computed numbers."""
from __future__ import annotations

import pandas as pd
import pytest

from pruninglib.book import claims
from pruninglib.chapters.random_pruning import claims as chapter
from pruninglib.chapters.random_pruning import parity, report, verdicts

PARAMS = {"methods": ["magnitude", "snip", "synflow"], "ratios": ["uniform", "erk"],
          "moderate_density": 0.1, "width_multipliers": [0.5, 1.0, 2.0],
          "width_density": 0.05, "width_methods": ["erk", "snip"], "ntk_depth": 3,
          "ntk_widths": [64, 256], "ntk_keeps": [1.0, 0.5], "ntk_seeds": 2, "ntk_inputs": 8,
          "model": "lenet_300_100", "dataset": "fashion_mnist", "train_subset": 2000,
          "epochs": 1, "seeds": 2}


def test_declared_rows_ids_kinds_and_scales():
    rows = chapter.declared(PARAMS)
    assert [c.id for c in rows] == ["B2", "B3a", "B3b", "F1a", "F1b", "F1c", "F2a", "F2b",
                                    "F2c", "SUa", "L1", "N1", "N2a", "N2b", "N3", "N4"]
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
    assert (n1.kind, n1.threshold, n1.tolerance) == ("within", 4.0, 0.25)  # depth + 1
    assert "q^4" in by_id["N1"].statement and "256" in by_id["N1"].metric
    assert by_id["B2"].scale.ours == "LeNet-300-100 · fashion_mnist 2000 · 1 ep · 2 seeds"
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


def _width_gaps() -> pd.DataFrame:
    return pd.DataFrame({"model.width": [0.5, 0.5, 2.0, 2.0] * 2,
                         "seed": [0, 1, 0, 1] * 2,
                         "reference": ["erk"] * 4 + ["snip"] * 4,
                         "difference": [10.0, 12.0, 4.0, 5.0, 3.0, 3.0, 3.5, 2.5]})


def test_estimates_of_every_measured_row():
    results = verdicts.estimates(PARAMS, _runs(), _width_gaps(), _ntk())
    measured = [c.id for c in chapter.declared(PARAMS) if c.kind != claims.NOT_MEASURED_KIND]
    assert sorted(results) == sorted(measured)
    # B2: the best other by mean is SNIP (84.5 % over seeds); uniform − SNIP: -4, -3 pp
    b2 = results["B2"]
    assert (b2.mean, b2.n, b2.entered, b2.total) == (pytest.approx(-3.5), 2, 4, 4)
    assert "vs snip" in b2.setting
    # B3a: mean over methods of shuffled − found: -1 pp (seed 0), -2 pp (seed 1)
    assert results["B3a"].mean == pytest.approx(-1.5)
    assert results["B3b"].mean == pytest.approx(2.0)
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
    results = verdicts.estimates(PARAMS, runs, _width_gaps(), _ntk())
    summary = report.summary(PARAMS, results, gap_summary, _width_gaps())
    assert "uniform random mask is -3.5 ± 6.4 pp (2 seeds)" in summary
    assert "SNIP: 0.0 ± 6.4 pp" in summary  # snip: +0.5 and -0.5
    assert "c/b = 1.00 ± 0.00 (2 seeds)" in summary
