"""Bad input gets one line naming the parameter, the value and what is allowed, before any
run starts: grids and specs from Python, the sweep command line (exit status 2), and the
notebooks' parameters (papermill ``-p``). One table per entry point."""
from __future__ import annotations

import numpy as np
import pytest

from helpers import SMALL_RUN
from pruninglib.book.parameters import ParameterError, parameters_for
from pruninglib.config import ConfigError, DataSpec, PruneSpec, RunSpec
from pruninglib.runs.cli import main as cli
from pruninglib.runs.experiments import grid_specs, run, sweep
from pruninglib.runs.store import StoreError

GRIDS = [
    ({"prune.density": []}, "prune.density=[] is not allowed: a non-empty list"),
    ({"prune.method": "snip"}, "prune.method='snip' is not allowed: a non-empty list"),
    ({"prune.density": 0.1}, "prune.density=0.1 is not allowed: a non-empty list"),
    ({"prune.density": {"a": 1}}, "is not allowed: a non-empty list"),
    ({"prune.density": [0.5, 2.0]}, "prune.density=2.0 is not allowed"),
    ({"prune.density": [0.0]}, "prune.density=0.0 is not allowed"),
    ({"prune.method": ["snip", "snipp"]}, "prune.method='snipp' is not allowed"),
    ({"seed": [-1]}, "seed=-1 is not allowed"),
    ({"seed": [0.5]}, "seed=0.5 is not allowed"),
    ({"train.epochs": [-2]}, "train.epochs=-2 is not allowed"),
    ({"train.lr": [float("nan")]}, "train.lr=nan is not allowed"),
    ({"model.name": ["vgg12"]}, "model.name='vgg12' is not allowed"),
    ({"prune.speed": [1]}, "prune.speed=1 is not allowed: a field of prune"),
    ({"prune.synflow_precision": ["float16"]},
     "prune.synflow_precision='float16' is not allowed: one of float32, float64"),
    ({"prune": [1]}, "is not allowed"),
    ({"data.augment": [True]}, None),  # allowed on image data
]


@pytest.mark.parametrize("grid, words", GRIDS, ids=[str(g) for g, _ in GRIDS])
def test_grids_are_checked_before_anything_runs(grid, words):
    if words is None:
        assert grid_specs(SMALL_RUN, grid)
        return
    with pytest.raises(ConfigError) as info:
        grid_specs(SMALL_RUN, grid)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_numpy_scalars_are_numbers_and_hash_like_python_ones():
    spec = SMALL_RUN.replace(seed=np.int64(2), **{"prune.density": np.float64(0.1)})
    assert spec == SMALL_RUN.replace(seed=2, **{"prune.density": 0.1})
    assert spec.key() == SMALL_RUN.replace(seed=2, **{"prune.density": 0.1}).key()
    assert [s.seed for s in grid_specs(SMALL_RUN, {"seed": np.arange(3)})] == [0, 1, 2]


@pytest.mark.parametrize("make, words", [
    (lambda: DataSpec("mnist1d", augment=True), "data.augment=True is not allowed"),
    (lambda: PruneSpec("snip", density=np.float64(1.5)), "prune.density=1.5 is not allowed"),
    (lambda: RunSpec(seed=np.int64(-1)), "run.seed=-1 is not allowed"),
])
def test_specs_refuse_bad_values_with_one_line(make, words):
    with pytest.raises(ConfigError) as info:
        make()
    assert words in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("kwargs, words", [
    ({"results_dir": ""}, "results_dir='' is not allowed"),
    ({"checkpoint_every": 0}, "checkpoint_every=0 is not allowed"),
    ({"device": "tpu"}, "device='tpu' is not allowed"),
])
def test_run_options_are_checked(tmp_path, kwargs, words):
    kwargs = {"results_dir": tmp_path, **kwargs}
    with pytest.raises((ConfigError, StoreError)) as info:
        sweep(SMALL_RUN, {"seed": [0]}, progress=False, **kwargs)
    assert words in str(info.value)
    assert not list(tmp_path.glob("*/*/result.json"))


def _cli(args, capsys):
    code = cli(args)
    return code, capsys.readouterr().err.strip()


CLI = [
    (["sweep", "--checkpoint-every", "0"], "checkpoint_every=0 is not allowed"),
    (["sweep", "--device", "tpu"], "device='tpu' is not allowed"),
    (["sweep", "--executor", "threads"], "executor='threads' is not allowed"),
    (["sweep", "--executor", "pool:0"], "workers=0 is not allowed"),
    (["sweep", "--set", "prune.density=2"], "prune.density=2 is not allowed"),
    (["sweep", "--set", "prune.speed=2"], "prune.speed=2 is not allowed"),
    (["sweep", "--set", "seed"], "'seed' is not allowed: PATH=VALUE"),
    (["sweep", "--grid", "prune.method=snip,nope"], "prune.method='nope' is not allowed"),
    (["sweep", "--grid", "seed=[1"], "seed=[1 is not allowed"),
    (["sweep", "EMPTY"], "it is empty"),
    (["sweep", "NOT_A_MAPPING"], "a mapping with 'base' and 'grid'"),
    (["sweep", "MISSING"], "No such file"),
    (["sweep", "--results-dir", "A_FILE"], "it is a file, not a directory"),
    (["status", "--results-dir", "A_FILE"], "it is a file, not a directory"),
]


@pytest.mark.parametrize("args, words", CLI, ids=[" ".join(a) for a, _ in CLI])
def test_the_command_line_exits_2_with_one_line(tmp_path, capsys, monkeypatch, args, words):
    (tmp_path / "EMPTY").write_text("")
    (tmp_path / "NOT_A_MAPPING").write_text("- 1\n- 2\n")
    (tmp_path / "A_FILE").write_text("x")
    monkeypatch.chdir(tmp_path)
    if "--results-dir" not in args:
        args = [*args, "--results-dir", str(tmp_path / "results")]
    args = [*args, "--set", "data.name=synthetic"] if args[0] == "sweep" else args
    code, err = _cli(args, capsys)
    assert code == 2, err
    assert err.startswith("error: ") and "\n" not in err and words in err, err
    assert not list(tmp_path.glob("results/*/*/result.json"))


def test_asking_for_cuda_without_a_gpu_is_one_line(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is visible here")
    code, err = _cli(["sweep", "--device", "cuda", "--set", "data.name=synthetic",
                      "--results-dir", str(tmp_path)], capsys)
    assert code == 2 and "device='cuda' is not allowed: no CUDA GPU" in err
    assert not list(tmp_path.glob("*/*/error.json"))


PARAMETERS = [
    ("pai_in_ten_minutes", {"seeds": 0}, "seeds=0"),
    ("pai_in_ten_minutes", {"seeds": "many"}, "seeds='many'"),
    ("pai_in_ten_minutes", {"seeds": -3}, "seeds=-3"),
    ("pai_in_ten_minutes", {"densities": 0}, "densities=[0]"),
    ("pai_in_ten_minutes", {"densities": [0.1, 1.5]}, "densities=[0.1, 1.5]"),
    ("pai_in_ten_minutes", {"densities": []}, "densities=[]"),
    ("pai_in_ten_minutes", {"epochs": 0}, "epochs=0"),
    ("pai_in_ten_minutes", {"lr": -0.1}, "lr=-0.1"),
    ("pai_in_ten_minutes", {"batch_size": 0}, "batch_size=0"),
    ("pai_in_ten_minutes", {"executor": "threads"}, "executor='threads'"),
    ("pai_in_ten_minutes", {"device": "gpu"}, "device='gpu'"),
    ("pai_in_ten_minutes", {"methods": []}, "methods=[]"),
    ("pai_in_ten_minutes", {"sedes": 3}, "unknown parameter 'sedes'"),
    ("pai_in_ten_minutes", {"widths": "[1, 2]"}, "widths=[1, 2]"),
    ("nope", {}, "unknown chapter 'nope'"),
]


@pytest.mark.parametrize("chapter, overrides, words", PARAMETERS,
                         ids=[f"{c}-{o}" for c, o, _ in PARAMETERS])
def test_notebook_parameters_are_checked_with_one_line(chapter, overrides, words):
    with pytest.raises(ParameterError) as info:
        parameters_for(chapter, "smoke", **overrides)
    assert words in str(info.value) and "\n" not in str(info.value), str(info.value)


def test_a_bad_profile_is_one_line():
    with pytest.raises(ParameterError, match="unknown profile 'gpu'"):
        parameters_for("pai_in_ten_minutes", "gpu")


def test_nothing_runs_when_a_run_option_is_bad(tmp_path):
    with pytest.raises(ConfigError):
        run(SMALL_RUN, results_dir=tmp_path, progress=False, checkpoint_every=-1)
    assert not list(tmp_path.glob("*/*/*"))
