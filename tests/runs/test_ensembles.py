"""Sweeps with ensemble=True: compatible missing runs train as one batched model, each stored
under its own key as an ordinary run (cached, loaded, resumed like any other)."""
from __future__ import annotations

import warnings

import pytest

from helpers import SMALL_RUN, numbers
from pruninglib.config import ToSTSpec
from pruninglib.runs import ensembles, experiments
from pruninglib.runs.experiments import (EnsembleFallbackWarning, ensemble_groups, run,
                                         sweep_results)
from pruninglib.runs.store import ResultStore

GRID = {"prune.method": ["snip", "random"], "seed": [0, 1]}


def _close(a, b):
    """Same run: equal but for float32 rounding (the wall-clock times aside)."""
    (ma, ha, la), (mb, hb, lb) = numbers(a), numbers(b)
    assert la == lb
    for k, v in ma.items():
        assert mb[k] == pytest.approx(v, rel=1e-5, abs=1e-6), k
    for x, y in zip(ha, hb):
        for k, v in x.items():
            assert y[k] == pytest.approx(v, rel=1e-5, abs=1e-6), k


def test_an_ensemble_sweep_stores_ordinary_runs_equal_to_those_trained_alone(tmp_path):
    together = sweep_results(SMALL_RUN, GRID, results_dir=tmp_path / "e", progress=False,
                             ensemble=True)
    alone = sweep_results(SMALL_RUN, GRID, results_dir=tmp_path / "a", progress=False)
    assert [r.key for r in together] == [r.key for r in alone]
    for a, b in zip(alone, together):
        _close(a, b)
        assert b.env["ensemble_size"] == 4 and "ensemble_size" not in a.env
    store = ResultStore(tmp_path / "e")
    assert all(store.has(r.key) for r in together)  # each under its own key
    # a single run of the grid is found in the store like any other
    assert numbers(run(SMALL_RUN.replace(**{"prune.method": "random", "seed": 1}),
                       results_dir=tmp_path / "e", progress=False)) == numbers(together[3])


def test_a_second_ensemble_sweep_loads_everything(tmp_path, monkeypatch):
    first = sweep_results(SMALL_RUN, GRID, results_dir=tmp_path, progress=False,
                          ensemble=True)

    def fail(*args, **kwargs):
        raise AssertionError("a stored run was trained again")
    monkeypatch.setattr(ensembles, "train_ensemble", fail)
    monkeypatch.setattr(experiments, "train", fail)
    again = sweep_results(SMALL_RUN, GRID, results_dir=tmp_path, progress=False,
                          ensemble=True)
    assert [r.to_dict() for r in again] == [r.to_dict() for r in first]


def test_stored_runs_are_left_alone_and_incompatible_runs_train_alone(tmp_path):
    stored = run(SMALL_RUN, results_dir=tmp_path, progress=False)  # snip, seed 0
    grid = {**GRID, "train.lr": [0.05, 0.07]}
    specs = experiments.grid_specs(SMALL_RUN, grid)
    odd = SMALL_RUN.replace(**{"tost.gradinit_steps": 2, "seed": 5})  # ToST: never grouped
    results = experiments.run_all(specs + [odd], results_dir=tmp_path, progress=False,
                                  ensemble=True)
    by_key = {r.key: r for r in results}
    assert by_key[stored.key].to_dict() == stored.to_dict()
    sizes = {r.spec.train.lr: r.env.get("ensemble_size") for r in results
             if r.key not in (stored.key, odd.key())}
    assert sizes == {0.05: 3, 0.07: 4}  # grouped by training spec; the stored one not again
    assert "ensemble_size" not in by_key[odd.key()].env


def test_a_failing_ensemble_leaves_its_runs_to_train_alone(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no ensemble today")
    monkeypatch.setattr(ensembles, "train_ensemble", broken)
    with pytest.warns(EnsembleFallbackWarning, match="no ensemble today"):
        results = sweep_results(SMALL_RUN, GRID, results_dir=tmp_path, progress=False,
                                ensemble=True)
    alone = sweep_results(SMALL_RUN, GRID, results_dir=tmp_path / "alone", progress=False)
    assert [numbers(r) for r in results] == [numbers(r) for r in alone]
    assert all("ensemble_size" not in r.env for r in results)


def test_a_run_claimed_by_another_worker_is_not_trained_in_the_group(tmp_path):
    specs = experiments.grid_specs(SMALL_RUN, GRID)
    store = ResultStore(tmp_path)
    claim = store.try_claim(specs[0].key())  # another live worker computes it
    with claim:
        output = ensembles.compute_ensemble(
            {"members": [s.to_dict() for s in specs], "weights": False},
            experiments.Context(store=ResultStore(tmp_path / "ensemble"), key="x",
                                results_dir=tmp_path, device="cpu"))
    assert output.payload["trained"] == [s.key() for s in specs[1:]]
    assert not store.has(specs[0].key()) and all(store.has(s.key()) for s in specs[1:])
    assert output.payload["metrics"]["train_seconds"] > 0


def test_groups_share_data_model_and_training_and_split_for_workers():
    specs = experiments.grid_specs(SMALL_RUN, {"seed": list(range(7)), "train.lr": [0.1, 0.2]})
    groups = ensemble_groups(specs, max_members=3)
    assert sorted(len(g) for g in groups) == [2, 2, 2, 2, 3, 3]
    assert all(len({s.train for s in g}) == 1 for g in groups)
    assert sorted(s.key() for g in groups for s in g) == sorted(s.key() for s in specs)
    assert [len(g) for g in ensemble_groups(specs[:4], min_groups=2)] == [2, 2]
    assert ensemble_groups(specs[:1]) == []  # nothing to share with
    tost = [s.replace(**{"tost.gradinit_steps": 1}) for s in specs[:3]]
    assert tost[0].tost != ToSTSpec() and ensemble_groups(tost) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ensemble_groups(specs + specs, max_members=16)  # duplicates counted once


def test_the_cli_sweeps_in_ensembles_when_asked(tmp_path):
    import io

    import yaml

    from pruninglib.runs.cli import main as cli

    plan = tmp_path / "sweep.yaml"
    plan.write_text(yaml.safe_dump({"base": SMALL_RUN.to_dict(), "grid": GRID}))
    out = io.StringIO()
    assert cli(["sweep", str(plan), "--results-dir", str(tmp_path / "r"), "--ensemble"],
               out=out) == 0, out.getvalue()
    assert "finished: 4 of 4 runs stored, 0 failed" in out.getvalue()
    stored = sweep_results(SMALL_RUN, GRID, results_dir=tmp_path / "r", progress=False)
    assert [r.env["ensemble_size"] for r in stored] == [4, 4, 4, 4]
