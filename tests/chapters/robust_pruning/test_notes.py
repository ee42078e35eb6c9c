"""The chapter's computed sentences carry the numbers of the frames they are given."""
from __future__ import annotations

import pandas as pd
import pytest

from pruninglib.analysis import eoc
from pruninglib.chapters.robust_pruning import notes

from .frames import chis, params, res_runs, train_layers, train_runs


@pytest.fixture(scope="module")
def reference():
    return eoc.reference_comparison()


def test_eoc_reference_note_compares_our_eoc_with_the_authors_code(reference):
    tanh = reference.set_index("activation").loc["tanh"]
    text = notes.eoc_reference_note(reference, 50, "ours")
    assert f"σ_w = {tanh.sigma_w_eoc:.6f}" in text
    assert f"χ^50 = {tanh.chi_reference ** 50:.2f}" in text
    assert "**Our experiments use our EOC points**" in text
    assert "use the reference EOC" in notes.eoc_reference_note(reference, 50, "reference")


def test_magnitude_and_inputless_notes():
    text = notes.magnitude_input_note(train_layers(), 0.1, width=6)
    assert text.startswith("Magnitude pruning keeps 1 % of the input layer at density 0.1")
    assert "11.4 times smaller" in text            # sqrt(784 / 6)
    layers = train_layers()
    assert notes.magnitude_input_note(layers[layers["prune.method"] != "magnitude"], 0.1,
                                      width=6) == ""
    text = notes.inputless_note(chis(), 0.1)
    assert "40 % for magnitude (tanh); 20 % for SNIP (tanh)" in text


def test_summary_reports_every_section_from_the_frames(reference):
    keys = dict(activation="tanh", phase="eoc", layer=1)
    theory = pd.DataFrame([{**keys, "c": 0.5}])
    measured = pd.DataFrame([{**keys, "pair": 0, "c": 0.52}])
    text = notes.summary(params(), reference=reference, theory=theory, measured=measured,
                         train_runs=train_runs(), train_layers=train_layers(), chis=chis(),
                         res_runs=res_runs())
    assert "stays within 0.020 of the mean-field recursion over 3 layers" in text
    assert ("5 of 5 layers collapsed in the ordered init, 0 of 5 layers collapsed in the "
            "Edge of Chaos init, 2 of 5 layers collapsed in the chaotic init") in text
    assert "reach 80.0 % (ordered), 91.0 % (Edge of Chaos), 70.0 % (chaotic)" in text
    assert "they reach 60.0 % at 50 % sparsity, 82.0 % at 90 % sparsity" in text
    assert "0.810 before and 1.000 after rescaling" in text
    assert "reach 65.0 % at 50 % sparsity, 86.0 % at 90 % sparsity" in text
    assert "+1.0 pp at depth 2, +11.0 pp at depth 4; unpruned: +1.0 pp, +2.0 pp" in text
    assert "SBP-SR 56.0 %, SNIP on the standard net 45.0 %, SynFlow on the standard net " \
           "43.3 %" in text
    assert "keeps 1 % of the weights of the 784-input first layer" in text
    assert "For ReLU" not in text
