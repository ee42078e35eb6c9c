"""The dry run of a profile: every chapter's plan validated and every distinct network built,
pruned and trained one step, without storing anything."""
import io

import pytest

from pruninglib.chapters.dry_run import dry_run, write_cifar_format
from pruninglib.config import DataSpec
from pruninglib.data import load_data


def test_a_small_cifar_format_set_reads_like_the_real_one(tmp_path):
    write_cifar_format(tmp_path, "cifar10", per_file=12)
    data = load_data(DataSpec("cifar10"), root=tmp_path)
    assert tuple(data.input_shape) == (3, 32, 32) and data.num_classes == 10
    assert len(data.train_x) == 5 * 12 and len(data.test_x) == 12
    write_cifar_format(tmp_path, "cifar100", per_file=4)
    assert load_data(DataSpec("cifar100"), root=tmp_path).num_classes == 100


def test_the_smoke_profile_dry_runs_every_chapter_and_stores_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNINGLIB_RESULTS", str(tmp_path / "results"))
    out = io.StringIO()
    reports = dry_run("smoke", out=out)
    assert len(reports) == 8
    for report in reports:
        assert not report.errors, f"{report.chapter}: {report.errors}"
        assert sum(report.tasks.values()) > 0, f"{report.chapter} planned nothing"
    assert sum(len(r.networks) for r in reports) >= 8
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_the_paper_profile_dry_runs_every_chapter(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNINGLIB_RESULTS", str(tmp_path / "results"))
    reports = dry_run("paper", out=io.StringIO())
    assert all(not r.errors for r in reports), [(r.chapter, r.errors) for r in reports]
    assert not (tmp_path / "results").exists()
