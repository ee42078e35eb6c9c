"""Where a chapter's build time goes: every cached computation logs its cost when the runner
asks, and the runner splits the chapter's wall time into training, pruning, other
computations and the rest of the notebook."""
import json

from helpers import SMALL_RUN
from pruninglib.book import runner
from pruninglib.runs.cache import TIME_LOG_VARIABLE
from pruninglib.runs.experiments import run


def test_a_runs_training_and_pruning_seconds_are_logged_and_split(tmp_path, monkeypatch):
    log = tmp_path / runner.BUILD_AREA / "demo.compute.jsonl"
    log.parent.mkdir(parents=True)
    monkeypatch.setenv(TIME_LOG_VARIABLE, str(log))
    first = run(SMALL_RUN, results_dir=tmp_path / "results", progress=False)
    second = run(SMALL_RUN.replace(seed=1), results_dir=tmp_path / "results", progress=False)
    run(SMALL_RUN, results_dir=tmp_path / "results", progress=False)  # loaded: not logged
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["kind"] for r in records] == ["run", "run"]
    split = runner.where_the_time_went(tmp_path, "demo", wall_seconds=1000.0)
    trained = first.metrics["train_seconds"] + second.metrics["train_seconds"]
    pruned = first.metrics["prune_seconds"] + second.metrics["prune_seconds"]
    assert abs(split["training"] - trained) < 0.1 and abs(split["pruning"] - pruned) < 0.1
    assert split["computations"] == 2
    assert abs(sum(split[k] for k in ("training", "pruning", "analysis", "notebook"))
               - 1000.0) < 0.2


def test_nothing_is_logged_unless_asked(tmp_path, monkeypatch):
    monkeypatch.delenv(TIME_LOG_VARIABLE, raising=False)
    run(SMALL_RUN, results_dir=tmp_path, progress=False)
    assert runner.where_the_time_went(tmp_path, "demo", 5.0) == {
        "training": 0.0, "pruning": 0.0, "analysis": 0.0, "notebook": 5.0, "computations": 0}
