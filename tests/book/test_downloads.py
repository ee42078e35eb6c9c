"""A chapter's tidy tables are written as CSV next to its executed page."""
import pandas as pd
import pytest

from pruninglib.book.downloads import BY_HAND_DIR, DATA_DIR, csv_name, save_tables
from pruninglib.book.parameters import ParameterError


def test_tables_are_written_next_to_the_executed_pages_and_read_back_equal(tmp_path,
                                                                          monkeypatch):
    monkeypatch.setenv("PRUNINGLIB_CHAPTER", "synflow")  # as the runner sets it
    frame = pd.DataFrame({"method": ["snip", "synflow"], "test_accuracy": [0.81, 0.845]})
    (path,) = save_tables("synflow", {"runs": frame}, root=tmp_path)
    assert path == tmp_path / DATA_DIR / "synflow-runs.csv"
    pd.testing.assert_frame_equal(pd.read_csv(path), frame)


def test_a_notebook_run_by_hand_leaves_the_book_s_tables_alone(tmp_path, monkeypatch):
    monkeypatch.delenv("PRUNINGLIB_CHAPTER", raising=False)
    book_copy = tmp_path / DATA_DIR / "synflow-runs.csv"
    book_copy.parent.mkdir(parents=True)
    book_copy.write_text("method\nsynflow\n")
    (path,) = save_tables("synflow", {"runs": pd.DataFrame({"method": ["snip"]})}, root=tmp_path)
    assert path == tmp_path / BY_HAND_DIR / "synflow-runs.csv"
    assert book_copy.read_text() == "method\nsynflow\n"


def test_table_names_are_safe_file_names():
    assert csv_name("tost", "gains_by_mask") == "tost-gains_by_mask.csv"
    with pytest.raises(ParameterError, match="table name='../x' is not allowed"):
        csv_name("tost", "../x")
