"""Specs: canonical form, stable hash, and one clear line for every bad input."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pruninglib.config import (ConfigError, DataSpec, ModelSpec, PruneSpec, RunSpec,
                               TrainSpec)
from pruninglib.data import DataUnavailableError, load_data
from pruninglib.models import build_model
from pruninglib.train import resolve_device

# (what is built, the exception, a regex the one-line message must match: field and value)
BAD_INPUTS = [
    (lambda: PruneSpec("snipp", density=0.1), ConfigError, r"prune\.method='snipp'.*one of"),
    (lambda: ModelSpec("vgg17"), ConfigError, r"model\.name='vgg17'.*one of"),
    (lambda: DataSpec("imagenet"), ConfigError, r"data\.name='imagenet'.*one of"),
    (lambda: PruneSpec("snip", density=0.0), ConfigError, r"prune\.density=0\.0.*> 0"),
    (lambda: PruneSpec("snip", density=1.5), ConfigError, r"prune\.density=1\.5.*<= 1"),
    (lambda: PruneSpec("snip", density=float("nan")), ConfigError, r"prune\.density=nan"),
    (lambda: PruneSpec.from_compression("snip", 0.5), ConfigError, r"prune\.compression=0\.5.*>= 1"),
    (lambda: PruneSpec("dense", density=0.5), ConfigError, r"prune\.density=0\.5.*'dense'"),
    (lambda: PruneSpec("synflow", density=0.1, iterations=0), ConfigError, r"prune\.iterations=0"),
    (lambda: PruneSpec("snip", density=0.1, scope="local"), ConfigError, r"prune\.scope='local'"),
    (lambda: PruneSpec("snip", density=0.1, schedule="cubic"), ConfigError, r"prune\.schedule='cubic'"),
    (lambda: PruneSpec("snip", density=0.1, samples_per_class=0), ConfigError,
     r"prune\.samples_per_class=0"),
    (lambda: PruneSpec("snip", density=0.1, rescale="sigma"), ConfigError, r"prune\.rescale='sigma'"),
    (lambda: TrainSpec(epochs=-1), ConfigError, r"train\.epochs=-1.*>= 0"),
    (lambda: TrainSpec(epochs=2.5), ConfigError, r"train\.epochs=2\.5.*integer"),
    (lambda: TrainSpec(batch_size=0), ConfigError, r"train\.batch_size=0"),
    (lambda: TrainSpec(lr=-0.1), ConfigError, r"train\.lr=-0\.1.*> 0"),
    (lambda: TrainSpec(momentum=1.0), ConfigError, r"train\.momentum=1\.0.*< 1"),
    (lambda: TrainSpec(optimizer="adam", nesterov=True), ConfigError, r"train\.nesterov=True"),
    (lambda: TrainSpec(optimizer="rmsprop"), ConfigError, r"train\.optimizer='rmsprop'"),
    (lambda: TrainSpec(milestones=(0.75, 0.5)), ConfigError, r"train\.milestones=\(0\.75, 0\.5\)"),
    (lambda: TrainSpec(label_smoothing=1.0), ConfigError, r"train\.label_smoothing=1\.0"),
    (lambda: ModelSpec("mlp", hidden=(100,), activation="swishy"), ConfigError,
     r"model\.activation='swishy'"),
    (lambda: ModelSpec("mlp"), ConfigError, r"model\.hidden=\(\).*non-empty"),
    (lambda: ModelSpec("lenet_300_100", hidden=(10,)), ConfigError, r"model\.hidden=\(10,\)"),
    (lambda: ModelSpec("vgg11", stable=True), ConfigError, r"model\.stable=True.*resnet"),
    (lambda: ModelSpec("conv4", width=0), ConfigError, r"model\.width=0.*> 0"),
    (lambda: DataSpec("fashion_mnist", train_subset=0), ConfigError, r"data\.train_subset=0"),
    (lambda: RunSpec(seed=-1), ConfigError, r"run\.seed=-1"),
    (lambda: RunSpec(prune=PruneSpec("imp", density=0.1), train=TrainSpec(epochs=0)),
     ConfigError, r"train\.epochs=0.*'imp'"),
    (lambda: RunSpec().replace(**{"prune.densty": 0.1}), ConfigError, r"prune\.densty.*density"),
    (lambda: RunSpec.from_dict({"model": {"nam": "mlp"}}), ConfigError, r"model\.nam"),
    (lambda: build_model(ModelSpec("vgg11"), (1, 40), 10), ConfigError,
     r"model\.name='vgg11' needs image inputs"),
    (lambda: resolve_device("cuda"), ConfigError, r"device='cuda'.*no CUDA GPU"),
    (lambda: resolve_device("tpu"), ConfigError, r"device='tpu'"),
]


@pytest.mark.parametrize("build, error, pattern", BAD_INPUTS,
                         ids=[f"case{i}" for i in range(len(BAD_INPUTS))])
def test_bad_input_gets_one_clear_line(build, error, pattern):
    if "cuda" in pattern:
        import torch
        if torch.cuda.is_available():
            pytest.skip("a GPU is visible here")
    with pytest.raises(error, match=pattern) as info:
        build()
    assert "\n" not in str(info.value)


def test_missing_data_offline_is_one_line_naming_the_fix(tmp_path, monkeypatch):
    import pruninglib.data as data
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian")
    with pytest.raises(DataUnavailableError) as info:
        load_data(DataSpec("cifar10"), root=tmp_path, download=False)
    message = str(info.value)
    assert "\n" not in message and "cifar" in message.lower()


def test_spec_round_trips_through_its_canonical_json():
    spec = RunSpec(data=DataSpec("mnist1d"), model=ModelSpec("mlp", hidden=(64, 32)),
                   prune=PruneSpec("synflow", density=0.01), train=TrainSpec(epochs=5), seed=2)
    assert RunSpec.from_dict(spec.to_dict()) == spec
    assert RunSpec.from_dict(spec.to_dict()).key() == spec.key()
    assert spec.prune.rounds == 100 and spec.prune.iterations is None


def test_changing_the_method_in_a_sweep_changes_the_default_rounds():
    snip = RunSpec(prune=PruneSpec("snip", density=0.1))
    assert snip.replace(**{"prune.method": "synflow"}).prune.rounds == 100
    assert PruneSpec("synflow", density=0.1, iterations=1).rounds == 1


def test_hash_changes_with_any_field_and_is_stable_across_processes():
    spec = RunSpec()
    assert spec.replace(seed=1).key() != spec.key()
    assert spec.replace(**{"train.lr": 0.051}).key() != spec.key()
    code = "from pruninglib.config import RunSpec; print(RunSpec().key())"
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env={"PYTHONHASHSEED": str(seed)}, check=True).stdout.strip()
               for seed in (1, 2)}
    assert outputs == {spec.key()}


def test_compression_and_density_are_inverse():
    spec = PruneSpec.from_compression("snip", 100)
    assert spec.density == 0.01 and spec.compression == 100


def test_the_names_config_validates_are_those_data_and_models_register():
    from pruninglib.config import DATASET_NAMES, MODEL_NAMES
    from pruninglib.data import DATASETS
    from pruninglib.models import MODELS

    assert set(DATASET_NAMES) == set(DATASETS)
    assert set(MODEL_NAMES) == set(MODELS)


def test_fields_added_later_leave_earlier_keys_unchanged_until_used():
    from pruninglib.config import LATER_FIELDS

    spec = RunSpec()
    for section, name in LATER_FIELDS:
        assert f'"{name}"' not in spec.to_json()
    fast = spec.replace(**{"train.channels_last": True})
    assert '"channels_last":true' in fast.to_json() and fast.key() != spec.key()
    assert RunSpec.from_dict(fast.to_dict()) == fast
    with pytest.raises(ConfigError, match="train.channels_last=1 is not allowed"):
        spec.replace(**{"train.channels_last": 1})


def test_section_dict_leaves_later_fields_out_at_their_defaults():
    import dataclasses

    from pruninglib.config import TrainSpec, section_dict

    assert "channels_last" not in section_dict(TrainSpec())
    assert section_dict(TrainSpec(channels_last=True))["channels_last"] is True
    assert "synflow_precision" not in section_dict(PruneSpec("synflow"))
    assert section_dict(DataSpec()) == dataclasses.asdict(DataSpec())
    assert RunSpec().to_json() == json.dumps(
        {"data": section_dict(DataSpec()), "model": section_dict(ModelSpec()),
         "prune": section_dict(PruneSpec()), "seed": 0,
         "train": section_dict(TrainSpec())}, sort_keys=True, separators=(",", ":"))
