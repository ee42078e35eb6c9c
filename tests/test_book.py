"""The book's machinery, fast: profiles and parameters, the committed notebooks, the claims
table and its verdicts, the plot style. No notebook is executed here (see
test_book_build.py for the built book)."""
from __future__ import annotations

import ast
import json
import math
import re
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
import yaml

matplotlib.use("Agg")

from pruninglib.book import claims, plots, runner, sphinx  # noqa: E402
from pruninglib.book import parameters as book  # noqa: E402
from pruninglib.config import PRUNE_METHODS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHAPTER = "pai_in_ten_minutes"


@pytest.fixture(scope="module")
def profiles():
    return book.load_profiles(ROOT / book.PROFILES_FILE)


@pytest.fixture(scope="module")
def raw_profiles():
    return yaml.safe_load((ROOT / book.PROFILES_FILE).read_text())


# -- profiles and parameters -----------------------------------------------------------------
def test_profiles_are_smoke_cpu_paper(profiles):
    assert book.profile_names(profiles) == ["smoke", "cpu", "paper"]


def test_every_chapter_resolves_under_every_profile(profiles):
    for chapter in book.chapter_names(profiles):
        declared = book.knobs(chapter, profiles)
        for profile in book.profile_names(profiles):
            params = book.parameters_for(chapter, profile, profiles=profiles)
            assert set(params) == set(declared)
            assert params.profile == profile and params.explicit == ()


def test_profile_values_come_from_the_file(profiles, raw_profiles):
    chapter = raw_profiles["chapters"][CHAPTER]
    smoke = book.parameters_for(CHAPTER, "smoke", profiles=profiles)
    cpu = book.parameters_for(CHAPTER, "cpu", profiles=profiles)
    for name, value in chapter["smoke"].items():
        assert smoke[name] == value
    for name, value in chapter["all"].items():
        assert cpu[name] == chapter["cpu"].get(name, value)
    assert cpu.device == raw_profiles["common"]["all"]["device"]


def test_explicit_parameters_override_and_are_coerced(profiles):
    p = book.parameters_for(CHAPTER, "smoke", profiles=profiles, seeds=5, epochs=None,
                            densities="[0.5, 0.05]", methods="snip",
                            widths="{conv4: 0.5}", lr=1)
    assert p.seeds == 5
    assert p.densities == [0.5, 0.05]
    assert p.methods == ["snip"]
    assert p.widths["conv4"] == 0.5 and p.widths["lenet_300_100"] == 1.0  # merged
    assert p.lr == 1.0 and isinstance(p.lr, float)
    assert set(p.explicit) == {"seeds", "densities", "methods", "widths", "lr"}
    assert p.epochs == book.parameters_for(CHAPTER, "smoke", profiles=profiles).epochs
    with pytest.raises(AttributeError, match="read-only"):
        p.seeds = 2


@pytest.mark.parametrize("kwargs, words", [
    ({"profile": "gpu"}, ["unknown profile 'gpu'", "smoke, cpu, paper"]),
    ({"chapter": "nope"}, ["unknown chapter 'nope'", CHAPTER]),
    ({"sedes": 3}, ["unknown parameter 'sedes'", "seeds"]),
    ({"seeds": "many"}, ["seeds='many'", "an integer"]),
    ({"progress": "yes please"}, ["progress=", "true or false"]),
    ({"widths": 3}, ["widths=3", "a mapping"]),
])
def test_bad_profile_chapter_or_parameter_is_one_clear_line(profiles, kwargs, words):
    chapter = kwargs.pop("chapter", CHAPTER)
    profile = kwargs.pop("profile", "cpu")
    with pytest.raises(book.ParameterError) as error:
        book.parameters_for(chapter, profile, profiles=profiles, **kwargs)
    message = str(error.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_parameters_from_a_notebook_namespace(profiles):
    injected = '# Parameters\nprofile = "smoke"\nseeds = 2\n'
    namespace = {"profile": "smoke", "seeds": 2, "models": None, "In": ["", injected],
                 "runs": pd.DataFrame(), "plt": matplotlib}
    p = book.parameters_from(CHAPTER, namespace)
    assert p.profile == "smoke" and p.seeds == 2 and p.explicit == ("seeds",)
    # a papermill parameter the chapter does not declare is an error ...
    namespace["In"].append('# Parameters\nprofile = "smoke"\nsede = 2\n')
    with pytest.raises(book.ParameterError, match="unknown parameter 'sede'"):
        book.parameters_from(CHAPTER, namespace)
    # ... but the reader's own variables, run interactively, are not
    assert book.parameters_from(CHAPTER, {"profile": None, "dense": 1, "In": []}).profile \
        == book.DEFAULT_PROFILE


def test_a_notebook_shows_warnings_without_the_machine_s_paths(profiles, monkeypatch):
    import warnings
    monkeypatch.setattr(warnings, "formatwarning", warnings.formatwarning)
    book.parameters_from(CHAPTER, {"profile": "smoke", "In": []})
    text = warnings.formatwarning("layer 3 is empty", UserWarning, "/home/x/pruninglib/a.py", 7)
    assert text == "UserWarning: layer 3 is empty\n"


def test_environment_printout(profiles, capsys):
    params = book.parameters_for(CHAPTER, "smoke", profiles=profiles, seeds=1)
    book.print_environment(params)
    out = capsys.readouterr().out
    for word in ("smoke; explicit: seeds=1", "wall time", "device", "threads", "torch",
                 "pruninglib", "Python"):
        assert word in out


# -- notebooks ---------------------------------------------------------------------------------
def test_there_are_chapter_notebooks():
    assert (ROOT / "notebooks" / f"{CHAPTER}.ipynb") in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"cell {index} of {path.name} has outputs"
            assert cell.get("execution_count") is None, f"cell {index} has an execution count"
    assert "papermill" not in nb["metadata"], f"{path.name} is an executed copy"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_parameters_cell_declares_exactly_the_chapter_knobs(path, profiles):
    nb = json.loads(path.read_text())
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"
    tree = ast.parse("".join(tagged[0]["source"]))
    names = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets}
    assert len(names) == len(tree.body), "the parameters cell holds only assignments"
    assert names == {"profile"} | set(book.knobs(path.stem, profiles))
    values = {t.id: ast.literal_eval(node.value) for node in tree.body for t in node.targets}
    assert values["profile"] == book.DEFAULT_PROFILE
    assert all(v is None for k, v in values.items() if k != "profile"), \
        "knobs default to None (= the profile's value)"
    text = json.dumps(nb)
    assert "tqdm.auto" not in text and "tqdm.notebook" not in text
    assert "/work/" not in text and "/home/" not in text, "absolute paths in the notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_opens_with_a_title_and_ends_with_verdicts_and_environment(path):
    cells = json.loads(path.read_text())["cells"]
    first = "".join(cells[0]["source"])
    assert first.startswith("# ") and "What you will learn" in first
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    assert re.fullmatch(r"print_environment\(\w*\)", code[-1].strip()), \
        "the last code cell prints the environment"
    # claims.verdict_table(...), a chapter helper's verdict_tables(...) built on it, or a
    # cell that only displays a table assigned from one
    tables = {name.strip() for c in code
              for names in re.findall(r"^([\w ,]+?)\s*=.*verdict_tables?\(", c, flags=re.M)
              for name in names.split(",")}
    verdicts = [i for i, c in enumerate(code) if re.search(r"verdict_tables?\(", c)
                or (c.strip() and set(c.split()) <= tables)]
    assert verdicts, "the chapter ends with claims.verdict_table(...)"
    after = len(code) - 1 - verdicts[-1]
    assert after <= 2, (f"a chapter ends with its summary, verdict table and environment: "
                        f"{after} code cells follow the verdict table")
    plans = [i for i, c in enumerate(code) if re.search(r"plan_tables?\(", c)]
    assert plans, "the claims and their criteria are shown with claims.plan_table"
    computing = [i for i, c in enumerate(code)
                 if re.search(r"\b(sweep|sweep_results|run|run_all)\(", c)]
    assert plans[0] < min(computing + verdicts), "criteria are stated before any result"


def test_toc_lists_every_notebook_and_nothing_else(profiles):
    chapters = runner.toc_chapters(ROOT)
    missing = sorted({p.stem for p in NOTEBOOKS} - set(chapters))
    assert not missing, f"add book/executed/{missing[0]} to _toc.yml"
    assert sorted(chapters) == sorted(p.stem for p in NOTEBOOKS), "_toc.yml lists a " \
        "chapter without a notebook in notebooks/"
    unknown = sorted(set(chapters) - set(book.chapter_names(profiles)))
    assert not unknown, f"add chapters.{unknown[0]} to notebooks/profiles.yml"


def _toc_entries(node) -> list[dict]:
    if isinstance(node, dict):
        return ([node] if "file" in node else []) + [e for v in node.values()
                                                     for e in _toc_entries(v)]
    if isinstance(node, list):
        return [e for item in node for e in _toc_entries(item)]
    return []


def test_toc_pages_exist():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [entry["file"] for entry in _toc_entries(toc["parts"])]
    for file in files:
        if not file.startswith(book.EXECUTED_DIR.as_posix()):
            assert (ROOT / f"{file}.md").is_file(), file


def test_toc_has_one_part_per_paper_with_its_experiment_nested_under_the_paper_page():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    papers = [part for part in toc["parts"]
              if any(c["file"].startswith("book/") and not c["file"].startswith(
                  book.EXECUTED_DIR.as_posix()) and c.get("sections") for c in part["chapters"])]
    assert len(papers) == 7
    for part in papers:
        (paper,) = part["chapters"]
        nested = [s["file"] for s in paper["sections"]]
        assert len(nested) == 1 and nested[0].startswith(book.EXECUTED_DIR.as_posix()), part
    first = [c["file"] for c in toc["parts"][0]["chapters"]]
    assert first == ["book/executed/glance", "book/executed/pai_in_ten_minutes"]


def test_config_keeps_the_repository_url_in_one_place():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["only_build_toc_files"] is True
    assert "pruninglib.book.sphinx" in config["sphinx"]["extra_extensions"]
    url = config["repository"]["url"]
    assert (ROOT / "_config.yml").read_text().count(url) == 1
    for page in (ROOT / "book").glob("*.md"):
        assert url not in page.read_text(), f"{page.name} repeats the repository URL"


# -- runner pieces ----------------------------------------------------------------------------
def _nested_progress_bars() -> str:
    """What tqdm writes for a bar with a nested, cleared bar (as a sweep does)."""
    import io

    from tqdm import tqdm

    out = io.StringIO()
    out.write("before\n")
    for run in tqdm(range(2), desc="runs", file=out, mininterval=0):
        inner = tqdm(total=5, desc=f"train {run}", file=out, leave=False, mininterval=0)
        for _ in range(5):
            inner.update(1)
        inner.close()
    out.write("after\n")
    return out.getvalue()


def test_progress_bars_collapse_to_their_last_state():
    raw = _nested_progress_bars()
    assert "\r" in raw and "\x1b[A" in raw
    lines = runner.collapse_progress(raw).splitlines()
    assert lines[0] == "before" and lines[-1] == "after"
    assert len(lines) == 3 and lines[1].startswith("runs: 100%")
    assert runner.collapse_progress("a\rb\rc\n") == "c\n"
    assert runner.collapse_progress("plain\n\ntext\n") == "plain\n\ntext\n"


def test_clean_notebook_merges_streams_and_collapses_bars():
    import nbformat

    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text="\rbar 1/2"),
                    nbformat.v4.new_output("stream", name="stdout", text="hello\n"),
                    nbformat.v4.new_output("stream", name="stderr", text="\rbar 2/2\n")]
    nb = nbformat.v4.new_notebook(cells=[cell])
    runner.clean_notebook(nb)
    assert [(o.name, o.text) for o in nb.cells[0].outputs] == [
        ("stderr", "bar 2/2\n"), ("stdout", "hello\n")]


def test_launch_buttons_point_at_the_source_notebook():
    executed = f"{book.EXECUTED_DIR.as_posix()}/{CHAPTER}"
    context = {"header_buttons": [
        {"type": "group", "buttons": [
            {"url": f"https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/{executed}.ipynb"},
            {"url": f"https://colab.research.google.com/github/o/r/blob/main/{executed}.ipynb"},
        ]},
        {"url": f"../../_sources/{executed}.ipynb"},
    ]}
    sphinx.point_buttons_at_sources(None, executed, "page.html", context, None)
    group, download = context["header_buttons"]
    assert all(b["url"].endswith(f"notebooks/{CHAPTER}.ipynb") for b in group["buttons"])
    assert download["url"] == f"../../_sources/{executed}.ipynb"


@pytest.mark.parametrize("argv, words", [
    (["build", "--profile", "gpu"], ["unknown profile 'gpu'"]),
    (["build", "--profile", "smoke", "-p", "sedes", "3"], ["unknown parameter 'sedes'"]),
    (["build", "--profile", "smoke", "--chapter", "nope"], ["unknown chapter 'nope'"]),
    (["build", "--profile", "smoke", "-p", "seeds", "many"], ["seeds='many'"]),
])
def test_cli_rejects_bad_input_before_running_anything(argv, words, capsys, monkeypatch):
    monkeypatch.setattr(runner, "execute_chapter", lambda *a, **k: pytest.fail("executed"))
    monkeypatch.setattr(runner, "build_html", lambda *a, **k: pytest.fail("built"))
    monkeypatch.chdir(ROOT)
    assert runner.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    for word in words:
        assert word in err


# -- claims -----------------------------------------------------------------------------------
def test_estimate_is_mean_and_student_t_interval():
    from scipy import stats

    values = [0.81, 0.84, 0.80, 0.86]
    est = claims.Estimate.from_samples(values, unit="pp", setting="s")
    mean = sum(values) / 4
    half = stats.t.ppf(0.975, 3) * stats.tstd(values) / 2
    assert math.isclose(est.mean, mean) and math.isclose(est.half_width, half, rel_tol=1e-3)
    assert est.n == 4 and est.format().endswith("pp (4 seeds)")
    one = claims.Estimate.from_samples([2.0])
    assert one.n == 1 and math.isinf(one.half_width) and "no CI" in one.format()
    assert claims.Estimate.from_samples([float("nan")]).n == 0
    for dof in (1, 5, 30, 31, 100):
        assert math.isclose(claims.t_quantile_975(dof), stats.t.ppf(0.975, dof), rel_tol=2e-3)


def _est(mean, half, n=3):
    return claims.Estimate(mean, mean - half, mean + half, n)


@pytest.mark.parametrize("criterion, estimate, verdict", [
    (claims.above(0), _est(2.0, 1.0), claims.REPRODUCED),
    (claims.above(0), _est(0.5, 1.0), claims.PARTLY),
    (claims.above(0), _est(-0.5, 0.2), claims.NOT_REPRODUCED),
    (claims.above(0), claims.Estimate.from_samples([3.0]), claims.PARTLY),  # one seed
    (claims.below(1), _est(0.2, 0.5), claims.REPRODUCED),
    (claims.below(1), _est(0.8, 0.5), claims.PARTLY),
    (claims.below(1), _est(1.5, 0.1), claims.NOT_REPRODUCED),
    (claims.within(10, 2), _est(10.5, 1.0), claims.REPRODUCED),
    (claims.within(10, 2), _est(11.5, 1.0), claims.PARTLY),
    (claims.within(10, 2), _est(13.0, 0.5), claims.NOT_REPRODUCED),
    (claims.above(0), claims.Estimate.from_samples([]), claims.NOT_MEASURED),
    (claims.above(0), None, claims.NOT_MEASURED),
])
def test_verdict_rules(criterion, estimate, verdict):
    assert criterion.verdict(estimate) == verdict


def test_criterion_text_and_validation():
    assert claims.above(0, "pp").text == "95 % CI above 0 pp"
    assert claims.within(1, 0.5).text == "95 % CI within 1 ± 0.5"
    with pytest.raises(ValueError):
        claims.Criterion("around", 1.0)
    with pytest.raises(ValueError):
        claims.within(1, 0)


def _runs():
    rows = []
    for seed in range(3):
        for method, acc in (("random", 0.50), ("synflow", 0.80), ("dense", 0.90)):
            rows.append({"prune.method": method, "prune.density": 0.01 if method != "dense"
                         else 1.0, "seed": seed, "test_accuracy": acc + 0.01 * seed
                         + (0.02 * seed if method == "synflow" else 0)})
    return pd.DataFrame(rows)


def test_samples_pairs_by_seed():
    runs = _runs()
    diff = claims.samples(runs, "test_accuracy", scale=100,
                          where={"prune.method": "synflow", "prune.density": 0.01},
                          minus={"prune.method": "random", "prune.density": 0.01})
    assert list(diff.index) == [0, 1, 2]
    assert diff.round(6).tolist() == [30.0, 32.0, 34.0]
    with pytest.raises(claims.NoRows):
        claims.samples(runs, "test_accuracy", where={"prune.method": "snip"})
    with pytest.raises(KeyError, match="model.name"):
        claims.samples(runs, "test_accuracy", where={"model.name": "x"})
    est = claims.estimate(runs, "test_accuracy", where={"prune.method": "grasp"})
    assert est.n == 0


def _claims():
    return [
        claims.Claim("S7", "Tanaka et al. 2020", "SynFlow beats random.", "SynFlow − random",
                     claims.above(0, "pp"),
                     claims.PaperNumber("90.08 % vs 79.14 %", "VGG-16", "Fig. 6")),
        claims.Claim("X1", "Someone 2021", "Something <odd> & escaped.", "a metric",
                     claims.below(1)),
    ]


def test_plan_table_states_criteria_without_results():
    plan = claims.plan_table(_claims())
    page = plan._repr_html_()
    assert 'class="claims-plan-table"' in page
    assert "95 % CI above 0 pp" in page and "verdict" not in page
    assert "&lt;odd&gt; &amp; escaped" in page
    assert plan.verdicts == {}
    assert list(plan.frame["id"]) == ["S7", "X1"]


def test_verdict_table_renders_every_claim_with_its_verdict():
    runs = _runs()
    results = {"S7": claims.estimate(
        runs, "test_accuracy", scale=100, unit="pp", setting="toy",
        where={"prune.method": "synflow"}, minus={"prune.method": "random"})}
    table = claims.verdict_table(_claims(), results)
    assert table.verdicts == {"S7": claims.REPRODUCED, "X1": claims.NOT_MEASURED}
    page = table._repr_html_()
    assert page.startswith('<table class="verdict-table"')
    assert page.count('class="verdict"') == 2
    half = claims.t_quantile_975(2) * 2.0 / math.sqrt(3)  # differences 30, 32, 34
    for text in (f"32.00 ± {half:.2f} pp (3 seeds)", "90.08 % vs 79.14 %", "VGG-16; Fig. 6",
                 "✓ reproduced", "not measured", "toy"):
        assert text in page
    assert "$" not in page
    frame = table.frame
    assert list(frame["verdict"]) == [claims.REPRODUCED, claims.NOT_MEASURED]
    assert "S7" in str(table)
    with pytest.raises(KeyError, match="unknown claim"):
        claims.verdict_table(_claims(), {"Z9": results["S7"]})
    with pytest.raises(ValueError, match="unique"):
        claims.plan_table(_claims() * 2)


# -- plots ------------------------------------------------------------------------------------
def test_every_method_has_one_colour_marker_and_label():
    for method in PRUNE_METHODS:
        assert method in plots.METHOD_COLORS
        assert method in plots.METHOD_MARKERS
        assert method in plots.METHOD_LABELS
    colours = [plots.METHOD_COLORS[m] for m in PRUNE_METHODS]
    assert len(set(colours)) == len(colours), "two methods share a colour"
    markers = [plots.METHOD_MARKERS[m] for m in PRUNE_METHODS if m != "dense"]
    assert len(set(markers)) == len(markers)
    assert plots.method_order(["synflow", "zzz", "random", "dense"]) == \
        ["dense", "random", "synflow", "zzz"]


def test_style_is_readable_and_colour_blind_safe():
    plots.use_style()
    assert matplotlib.rcParams["font.size"] >= 10
    assert matplotlib.rcParams["axes.labelsize"] >= 10
    cycle = [matplotlib.colors.to_hex(c["color"]).upper()
             for c in matplotlib.rcParams["axes.prop_cycle"]]
    assert cycle[:3] == [c.upper() for c in plots.OKABE_ITO[1:4]]


def test_a_hanging_legend_lists_every_panel_once_and_stays_below_the_axis_labels():
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
    left.plot([1, 2], [1, 2], label="IMDB")
    right.plot([1, 2], [2, 1], label="IMDB")
    right.plot([1, 2], [0, 1], label="conv layers only")  # drawn in one panel only
    left.set_xlabel("compression")
    handles, labels = plots.panel_legend_entries(fig)
    assert labels == ["IMDB", "conv layers only"] and len(handles) == 2
    plots.legend_below(fig, handles, labels, offset=0.0, loc="upper center")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = fig.legends[0].get_window_extent(renderer)
    label = left.xaxis.label.get_window_extent(renderer)
    assert legend.y1 <= label.y0 + 1  # the legend's top is under the x label, not over it
    plt.close(fig)


def test_top_density_axis_is_ticked_at_the_plotted_densities_in_percent():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([10, 50], [1, 2])
    plots.compression_ticks(ax, "x")
    for sparsity, expected in ((False, ["10 %", "2 %"]), (True, ["90 %", "98 %"])):
        top = plots.density_axis_on_top(ax, [0.1, 0.02, 0.1], sparsity=sparsity)
        fig.canvas.draw()
        ticks = sorted(top.get_xticks(), reverse=True)
        assert ticks == pytest.approx([0.1, 0.02])
        formatter = top.xaxis.get_major_formatter()
        assert [formatter(t, 0) for t in ticks] == expected
        assert not [t for t in top.xaxis.get_minorticklabels() if t.get_text()]
        top.remove()
    plt.close(fig)


def test_accuracy_figure_has_log_compression_axis_units_and_legend():
    import matplotlib.pyplot as plt

    plots.use_style()
    runs = pd.DataFrame([
        {"model.name": m, "prune.method": meth, "prune.density": d, "seed": s,
         "test_accuracy": 0.8 - 0.1 * i + 0.01 * s}
        for m in ("lenet_300_100", "conv4") for i, meth in enumerate(("random", "synflow"))
        for d in (0.1, 0.01) for s in range(3)])
    dense = pd.DataFrame([{"model.name": m, "prune.method": "dense", "prune.density": 1.0,
                           "seed": s, "test_accuracy": 0.9} for m in ("lenet_300_100", "conv4")
                          for s in range(3)])
    fig = plots.accuracy_vs_compression(runs, dense)
    axes = [ax for ax in fig.axes if ax.get_xlabel() == plots.COMPRESSION_LABEL]
    assert len(axes) == 2
    assert all(ax.get_xscale() == "log" for ax in axes)
    assert axes[0].get_ylabel() == plots.ACCURACY_LABEL and "%" in plots.ACCURACY_LABEL
    assert [ax.get_title() for ax in axes] == ["LeNet-300-100", "Conv-4"]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["random", "SynFlow", "dense (unpruned)"]
    plt.close(fig)


def test_layer_density_figure_marks_collapsed_layers():
    import matplotlib.pyplot as plt

    layers = pd.DataFrame([
        {"model.name": "lenet_300_100", "prune.method": meth, "prune.density": 0.01,
         "seed": 0, "layer": name, "numel": numel, "density": dens}
        for meth, densities in (("random", (0.01, 0.01, 0.0)), ("synflow", (0.005, 0.05, 0.5)))
        for (name, numel), dens in zip((("fc1", 235200), ("fc2", 30000), ("fc3", 1000)),
                                       densities)])
    fig = plots.layer_densities(layers)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and "log scale" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1\n235 k", "2\n30 k", "3\n1.0 k"]
    assert len(ax.collections) == 1, "the emptied layer is marked"
    plt.close(fig)


def test_papermills_injected_parameters_cell_is_folded():
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("profile = 'smoke'",
                                          metadata={"tags": ["injected-parameters"]}),
                nbformat.v4.new_code_cell("x = 1")]
    runner.clean_notebook(nb)
    assert "hide-input" in nb.cells[0].metadata["tags"]
    assert "tags" not in nb.cells[1].metadata or not nb.cells[1].metadata["tags"]
