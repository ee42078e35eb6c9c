"""Tests of pruninglib.data on small files the tests write (offline, no real datasets)."""
from __future__ import annotations

import gzip
import pickle
import random
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pruninglib import data
from pruninglib.config import ConfigError, DataSpec
from pruninglib.data import (DATASETS, DataUnavailableError, batches, class_balanced_batch,
                             load_data, num_batches)


# -- helpers: tiny files in the real on-disk formats -------------------------------------------
def idx_bytes(a: np.ndarray) -> bytes:
    """An uint8 array in the idx format (MNIST files)."""
    header = bytes([0, 0, 0x08, a.ndim]) + np.array(a.shape, dtype=">u4").tobytes()
    return header + a.astype(np.uint8).tobytes()


def fake_idx_set(n_train=20, n_test=10, seed=0):
    """Random 28×28 images and labels 0..9 (each label twice in train, once in test)."""
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.arange(n_train, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": np.arange(n_test, dtype=np.uint8) % 10,
    }


def write_gz_idx_set(folder: Path, arrays: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, a in arrays.items():
        with gzip.open(folder / f"{name}.gz", "wb") as f:
            f.write(idx_bytes(a))


def write_idx_set(folder: Path, arrays: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, a in arrays.items():
        (folder / name).write_bytes(idx_bytes(a))


def cifar_images(n: int, offset: int) -> np.ndarray:
    """n×3×32×32 uint8: red = offset + i, green = 100, blue = 200, and pixel (row 0, col 1)
    of the red plane = 7 (to check the row-major layout)."""
    x = np.empty((n, 3, 32, 32), dtype=np.uint8)
    x[:, 0] = (offset + np.arange(n))[:, None, None]
    x[:, 1], x[:, 2] = 100, 200
    x[:, 0, 0, 1] = 7
    return x


def write_cifar_batch(path: Path, x: np.ndarray, labels: list[int], label_key: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump({"data": x.reshape(len(x), 3072), label_key: labels}, f)


@pytest.fixture
def no_debian(tmp_path, monkeypatch):
    """Point the Debian Fashion-MNIST folder at an empty directory."""
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian")


@pytest.fixture
def no_download(monkeypatch):
    """Make any torchvision download fail at once, as offline."""
    def fail(dataset_class, root):
        raise OSError("network unreachable\nsecond line")
    monkeypatch.setattr(data, "_download", fail)


# -- Fashion-MNIST / MNIST ---------------------------------------------------------------------
def test_fashion_mnist_from_debian_files(tmp_path, monkeypatch, caplog):
    debian = tmp_path / "debian"
    arrays = fake_idx_set()
    write_gz_idx_set(debian, arrays)
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", debian)
    root = tmp_path / "root"

    with caplog.at_level("INFO", logger="pruninglib.data"):
        raw = data.prepare_fashion_mnist(root, download=False)
    assert raw == root / "FashionMNIST" / "raw"
    assert "Debian" in caplog.text
    for name, a in arrays.items():
        path = raw / name
        assert path.is_file() and not path.is_symlink()
        assert path.read_bytes() == idx_bytes(a)

    caplog.clear()
    with caplog.at_level("INFO", logger="pruninglib.data"):
        data.prepare_fashion_mnist(root, download=False)
    assert "already" in caplog.text

    d = load_data(DataSpec("fashion_mnist"), root=root)
    assert d.train_x.shape == (20, 1, 28, 28) and d.test_x.shape == (10, 1, 28, 28)
    assert d.train_x.dtype == torch.float32 and d.train_y.dtype == torch.int64
    assert d.num_classes == 10 and d.input_shape == (1, 28, 28)
    assert d.train_y.tolist() == arrays["train-labels-idx1-ubyte"].tolist()
    (mean,), (std,) = DATASETS["fashion_mnist"].mean, DATASETS["fashion_mnist"].std
    expected = (torch.from_numpy(arrays["t10k-images-idx3-ubyte"]).float() / 255 - mean) / std
    torch.testing.assert_close(d.test_x[:, 0], expected)


def test_fashion_mnist_partial_files_completed_from_debian(tmp_path, monkeypatch):
    arrays = fake_idx_set()
    debian = tmp_path / "debian"
    write_gz_idx_set(debian, arrays)
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", debian)
    raw = tmp_path / "FashionMNIST" / "raw"
    write_idx_set(raw, {"train-labels-idx1-ubyte": arrays["train-labels-idx1-ubyte"]})
    data.prepare_fashion_mnist(tmp_path, download=False)
    assert all((raw / name).read_bytes() == idx_bytes(a) for name, a in arrays.items())


def test_mnist_reads_idx_files(tmp_path):
    arrays = fake_idx_set(30, 10, seed=1)
    write_idx_set(tmp_path / "MNIST" / "raw", arrays)
    d = load_data(DataSpec("mnist", test_subset=5), root=tmp_path)
    assert d.train_x.shape == (30, 1, 28, 28) and d.test_x.shape == (5, 1, 28, 28)
    assert d.train_y.tolist() == arrays["train-labels-idx1-ubyte"].tolist()


def test_read_idx_rejects_truncated_file(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(idx_bytes(np.zeros((2, 28, 28), np.uint8))[:-1])
    with pytest.raises(ValueError, match="header says"):
        data.read_idx(path)


def test_cli_prepares_fashion_mnist(tmp_path, monkeypatch, capsys):
    write_gz_idx_set(tmp_path / "debian", fake_idx_set())
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "debian")
    assert data.main(["fashion_mnist", "--root", str(tmp_path / "root")]) == 0
    out = capsys.readouterr().out
    assert "Debian" in out and str(tmp_path / "root" / "FashionMNIST" / "raw") in out


def test_cli_fails_with_one_line(tmp_path, no_debian, no_download, capsys):
    assert data.main(["fashion_mnist", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "apt-get install dataset-fashion-mnist" in err


# -- missing data ------------------------------------------------------------------------------
@pytest.mark.parametrize("name, fix", [
    ("fashion_mnist", "apt-get install dataset-fashion-mnist"),
    ("mnist", "python -m pruninglib.data mnist"),
    ("cifar10", "python -m pruninglib.data cifar10"),
    ("cifar100", "python -m pruninglib.data cifar100"),
])
def test_missing_data_offline_says_what_to_do(tmp_path, no_debian, no_download, name, fix):
    with pytest.raises(DataUnavailableError) as info:
        load_data(DataSpec(name), root=tmp_path)
    message = str(info.value)
    assert "\n" not in message and name in message and fix in message
    assert "PRUNINGLIB_DATA" in message and "download failed" not in message


def test_failed_download_gives_one_line(tmp_path, no_debian, no_download):
    with pytest.raises(DataUnavailableError) as info:
        load_data(DataSpec("cifar10"), root=tmp_path, download=True)
    message = str(info.value)
    assert "\n" not in message and "download failed: network unreachable second line" in message


def test_download_used_only_when_asked(tmp_path, no_debian, monkeypatch):
    calls = []

    def fake_download(dataset_class, root):
        calls.append(dataset_class)
        write_idx_set(root / "FashionMNIST" / "raw", fake_idx_set())

    monkeypatch.setattr(data, "_download", fake_download)
    with pytest.raises(DataUnavailableError):
        load_data(DataSpec("fashion_mnist"), root=tmp_path)
    assert calls == []
    d = load_data(DataSpec("fashion_mnist"), root=tmp_path, download=True)
    assert calls == ["FashionMNIST"] and len(d.train_y) == 20


# -- CIFAR -------------------------------------------------------------------------------------
def test_cifar10_pickle_format(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    for i in range(1, 6):
        write_cifar_batch(folder / f"data_batch_{i}", cifar_images(2, 10 * i), [i, i + 1],
                          "labels")
    write_cifar_batch(folder / "test_batch", cifar_images(3, 0), [0, 9, 5], "labels")
    d = load_data(DataSpec("cifar10"), root=tmp_path)
    assert d.train_x.shape == (10, 3, 32, 32) and d.test_x.shape == (3, 3, 32, 32)
    assert d.train_y.tolist() == [1, 2, 2, 3, 3, 4, 4, 5, 5, 6] and d.test_y.tolist() == [0, 9, 5]
    info = DATASETS["cifar10"]
    pixels = d.train_x * torch.tensor(info.std).view(1, 3, 1, 1) + torch.tensor(
        info.mean).view(1, 3, 1, 1)
    pixels = (pixels * 255).round()
    assert pixels[:, 0, 1, 1].tolist() == [10, 11, 20, 21, 30, 31, 40, 41, 50, 51]
    assert (pixels[:, 0, 0, 1] == 7).all() and (pixels[:, 0, 1, 0] != 7).all()
    assert (pixels[:, 1] == 100).all() and (pixels[:, 2] == 200).all()


def test_cifar100_pickle_format(tmp_path):
    folder = tmp_path / "cifar-100-python"
    write_cifar_batch(folder / "train", cifar_images(4, 0), [0, 99, 50, 7], "fine_labels")
    write_cifar_batch(folder / "test", cifar_images(2, 0), [3, 98], "fine_labels")
    d = load_data(DataSpec("cifar100"), root=tmp_path)
    assert d.num_classes == 100 and d.input_shape == (3, 32, 32)
    assert d.train_x.shape == (4, 3, 32, 32) and d.train_y.tolist() == [0, 99, 50, 7]
    assert d.test_y.tolist() == [3, 98]
    (_, mean_g, _), (_, std_g, _) = DATASETS["cifar100"].mean, DATASETS["cifar100"].std
    expected = torch.full((2, 32, 32), (100 / 255 - mean_g) / std_g)
    torch.testing.assert_close(d.test_x[:, 1], expected)


# -- MNIST-1D ----------------------------------------------------------------------------------
def test_mnist1d_generated_and_cached(tmp_path, monkeypatch):
    np.random.seed(123)
    random.seed(123)
    before = np.random.random(), random.random()
    np.random.seed(123)
    random.seed(123)
    first = data.load_mnist1d(tmp_path, num_samples=500)
    assert (np.random.random(), random.random()) == before  # global generators untouched
    train_x, train_y, test_x, test_y = first
    assert train_x.shape == (400, 1, 40) and test_x.shape == (100, 1, 40)
    assert train_x.dtype == torch.float32 and train_y.dtype == torch.int64
    assert set(torch.cat([train_y, test_y]).tolist()) == set(range(10))
    assert len(list((tmp_path / "mnist1d").glob("*.npz"))) == 1

    import mnist1d.data

    def no_generation(*args, **kwargs):
        raise AssertionError("regenerated instead of reading the cache")

    monkeypatch.setattr(mnist1d.data, "make_dataset", no_generation)
    for a, b in zip(first, data.load_mnist1d(tmp_path, num_samples=500)):
        assert torch.equal(a, b)


def test_mnist1d_rejects_unknown_args(tmp_path):
    with pytest.raises(TypeError, match="num_sample"):
        data.load_mnist1d(tmp_path, num_sample=10)


def test_mnist1d_defaults_via_load_data(tmp_path):
    d = load_data(DataSpec("mnist1d"), root=tmp_path)
    assert d.train_x.shape == (4000, 1, 40) and d.test_x.shape == (1000, 1, 40)
    assert d.num_classes == 10 and d.input_shape == (1, 40)


# -- subsets -----------------------------------------------------------------------------------
def test_subsets_size_seed_and_stratification():
    full = load_data(DataSpec("synthetic"))
    a = load_data(DataSpec("synthetic", train_subset=100, test_subset=40))
    b = load_data(DataSpec("synthetic", train_subset=100, test_subset=40))
    c = load_data(DataSpec("synthetic", train_subset=100, test_subset=40, subset_seed=1))
    assert a.train_x.shape == (100, 1, 8, 8) and a.test_x.shape == (40, 1, 8, 8)
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.test_x, b.test_x)
    assert not torch.equal(a.train_x, c.train_x) and not torch.equal(a.test_x, c.test_x)
    assert a.train_y.bincount().tolist() == [25] * 4 and a.test_y.bincount().tolist() == [10] * 4
    # every subset image is an image of the full set
    assert all((full.train_x == x).flatten(1).all(1).any() for x in a.train_x)
    # the test subset does not depend on the train subset
    d = load_data(DataSpec("synthetic", test_subset=40))
    assert torch.equal(a.test_x, d.test_x) and len(d.train_y) == 512


def test_subset_larger_than_split_is_refused():
    with pytest.raises(ConfigError, match="train_subset=513"):
        load_data(DataSpec("synthetic", train_subset=513))


def test_stratified_subset_proportional_and_nested():
    y = torch.tensor([0] * 60 + [1] * 30 + [2] * 10)
    small = data.stratified_subset(y, 10, torch.Generator().manual_seed(3))
    large = data.stratified_subset(y, 50, torch.Generator().manual_seed(3))
    assert y[small].bincount().tolist() == [6, 3, 1]
    assert y[large].bincount().tolist() == [30, 15, 5]
    assert set(small.tolist()) <= set(large.tolist())
    odd = data.stratified_subset(y, 7, torch.Generator().manual_seed(0))
    assert len(odd) == 7 and len(set(odd.tolist())) == 7


def test_unknown_dataset_is_a_config_error():
    with pytest.raises(ConfigError, match="data.name"):
        DataSpec("imagenet")


# -- batches -----------------------------------------------------------------------------------
def test_batches_cover_each_sample_once_and_are_seeded():
    x = torch.arange(10).float().view(10, 1)
    y = torch.arange(10)

    def epoch(seed):
        return [yb for _, yb in batches(x, y, 3, generator=torch.Generator().manual_seed(seed))]

    first = epoch(0)
    assert [len(b) for b in first] == [3, 3, 3, 1] and num_batches(10, 3) == 4
    assert sorted(torch.cat(first).tolist()) == list(range(10))
    assert torch.equal(torch.cat(first), torch.cat(epoch(0)))
    assert not torch.equal(torch.cat(first), torch.cat(epoch(1)))
    for xb, yb in batches(x, y, 3, generator=torch.Generator().manual_seed(0)):
        assert torch.equal(xb[:, 0].long(), yb)

    kept = list(batches(x, y, 3, drop_last=True, generator=torch.Generator().manual_seed(0)))
    assert [len(yb) for _, yb in kept] == [3, 3, 3] and num_batches(10, 3, drop_last=True) == 3
    in_order = torch.cat([yb for _, yb in batches(x, y, 4, shuffle=False)])
    assert in_order.tolist() == list(range(10))


def test_augment_keeps_shape_is_seeded_and_crops_or_flips():
    x = torch.randn(16, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    out1 = data.augment_batch(x, torch.Generator().manual_seed(5))
    out2 = data.augment_batch(x, torch.Generator().manual_seed(5))
    out3 = data.augment_batch(x, torch.Generator().manual_seed(6))
    assert out1.shape == x.shape and torch.equal(out1, out2) and not torch.equal(out1, out3)
    padded = F.pad(x, (4, 4, 4, 4))
    for img, p in zip(out1, padded):
        crops = [p[:, i:i + 8, j:j + 8] for i in range(9) for j in range(9)]
        assert any(torch.equal(img, c) or torch.equal(img, c.flip(-1)) for c in crops)

    y = torch.arange(16)
    b1 = list(batches(x, y, 8, augment=True, generator=torch.Generator().manual_seed(1)))
    b2 = list(batches(x, y, 8, augment=True, generator=torch.Generator().manual_seed(1)))
    assert all(torch.equal(u[0], v[0]) and u[0].shape == (8, 3, 8, 8) for u, v in zip(b1, b2))
    with pytest.raises(ValueError, match="B×C×H×W"):
        data.augment_batch(torch.zeros(4, 1, 40))


def test_class_balanced_batch():
    d = load_data(DataSpec("synthetic"))
    xb, yb = class_balanced_batch(d.train_x, d.train_y, 5, torch.Generator().manual_seed(0))
    assert xb.shape == (20, 1, 8, 8) and yb.bincount().tolist() == [5] * 4
    xb2, _ = class_balanced_batch(d.train_x, d.train_y, 5, torch.Generator().manual_seed(0))
    xb3, _ = class_balanced_batch(d.train_x, d.train_y, 5, torch.Generator().manual_seed(1))
    assert torch.equal(xb, xb2) and not torch.equal(xb, xb3)
    y = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2])
    with pytest.raises(ValueError, match="class 1 has 2 samples"):
        class_balanced_batch(torch.zeros(8, 1), y, 3, torch.Generator())
    with pytest.raises(ValueError, match="class 3 has 0 samples"):
        class_balanced_batch(torch.zeros(8, 1), y, 1, torch.Generator(), num_classes=4)


# -- synthetic, devices, data root -------------------------------------------------------------
def test_synthetic_is_deterministic_and_learnable():
    d = load_data(DataSpec("synthetic"))
    assert torch.equal(d.train_x, load_data(DataSpec("synthetic")).train_x)
    assert d.train_x.shape == (512, 1, 8, 8) and d.test_x.shape == (256, 1, 8, 8)
    assert d.train_y.bincount().tolist() == [128] * 4
    torch.manual_seed(0)
    model = torch.nn.Linear(64, 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(10):
        opt.zero_grad()
        F.cross_entropy(model(d.train_x.flatten(1)), d.train_y).backward()
        opt.step()
    accuracy = (model(d.test_x.flatten(1)).argmax(1) == d.test_y).float().mean()
    assert accuracy > 0.9


def test_dataset_to_device():
    d = load_data(DataSpec("synthetic"), device="cpu")
    moved = d.to("cpu")
    assert moved.train_x.device.type == "cpu" and moved.name == "synthetic"
    assert "tensor" not in repr(d)


def test_default_data_root(monkeypatch, tmp_path):
    monkeypatch.setenv("PRUNINGLIB_DATA", str(tmp_path / "here"))
    assert data.default_data_root() == tmp_path / "here"
    monkeypatch.delenv("PRUNINGLIB_DATA")
    project = Path(data.__file__).resolve().parent.parent
    expected = (project / "data" if (project / "pyproject.toml").is_file()
                else Path.home() / ".cache" / "pruninglib" / "data")
    assert data.default_data_root() == expected
