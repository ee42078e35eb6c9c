"""The book runner: ``python -m pruninglib.book build --profile cpu`` (wrapped by ``make book``)
executes every chapter notebook listed in ``_toc.yml`` with papermill, then builds the HTML with
``jupyter-book build .`` (warnings are errors).

Where things go (all relative to the repository root):

* ``notebooks/<chapter>.ipynb`` — the source, committed without outputs;
* ``_build/executed/<chapter>.ipynb`` — papermill's output, written cell by cell (on failure
  it holds the traceback), plus ``timings.json``;
* ``book/executed/<chapter>.ipynb`` — the last successful execution with progress-bar
  updates collapsed: the page ``_toc.yml`` lists. The folder ignores itself in git
  (it holds a ``.gitignore`` with ``*``), as does the generated ``build_report.md`` beside it;
* ``_build/claims/<chapter>.json`` — the rows of the chapter's verdict tables, written by the
  kernel (the runner sets ``$PRUNINGLIB_CLAIMS_DIR`` and ``$PRUNINGLIB_CHAPTER``), kept after
  a successful execution as ``book/executed/claims/<chapter>.json``, so that a
  ``--chapter X`` build keeps every other chapter's rows;
* ``_build/claims.csv`` — every chapter's rows (copied to ``book/executed/claims.csv``) and
  ``book/executed/glance.md``, the page "Results at a glance" built from it
  (:mod:`.glance`);
* ``_build/html/`` — the book.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from ..runs.cache import TIME_LOG_VARIABLE
from . import glance
from .parameters import (BUILD_AREA, DEFAULT_PROFILE, EXECUTED_DIR, HTML_DIR, PROFILES_FILE,
                         REPORT_FILE, SOURCE_DIR, TEACHING_TIMES_FILE, TIMINGS_FILE, ParameterError, cpu_model,
                         format_seconds, git_commit, load_profiles, package_version,
                         parameters_for, repo_root, check_profile, coerce, knobs)
from .tables import CHAPTER_ENV, CLAIMS_DIR_ENV


# ------------------------------------------------------------------------------------------
# The runner
# ------------------------------------------------------------------------------------------
class BuildError(RuntimeError):
    """A chapter notebook or the HTML build failed (the message says where)."""


GENERATED_PAGES = (glance.GLANCE_PAGE.stem,)
"""Pages of ``book/executed/`` the runner writes itself (not chapters)."""


def toc_chapters(root: Path) -> list[str]:
    """Chapter notebooks listed in ``_toc.yml`` (entries ``file: book/executed/<name>``),
    in reading order; the generated pages (:data:`GENERATED_PAGES`) are not chapters."""
    with open(root / "_toc.yml", encoding="utf-8") as f:
        toc = yaml.safe_load(f)
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            entry = node.get("file")
            if isinstance(entry, str):
                path = Path(entry)
                name = path.stem if path.suffix in (".ipynb", ".md") else path.name
                if path.parent == EXECUTED_DIR and name not in GENERATED_PAGES:
                    found.append(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return found


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CSI = re.compile(r"\x1b\[([0-9;]*)([A-Za-z])")


def collapse_progress(text: str) -> str:
    """What a terminal would finally show for ``text``: progress bars collapsed to their last
    state.

    Replays the text on a grid of lines, as tqdm expects a terminal to: ``\\r`` returns to the
    start of the line, ``\\n`` goes down a line, ``ESC[nA`` / ``ESC[nB`` go up / down (nested
    bars), ``ESC[K`` clears to the end of the line; other escape codes (colours) are dropped.
    Lines left blank (bars cleared with ``leave=False``) are removed. Text without ``\\r`` or
    escape codes is returned unchanged.
    """
    if "\r" not in text and "\x1b[" not in text:
        return text
    lines: list[list[str]] = [[]]
    row = col = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\x1b":
            match = _CSI.match(text, i)
            if match:
                count = int(match.group(1)) if match.group(1).isdigit() else 1
                command = match.group(2)
                if command == "A":
                    row = max(0, row - count)
                elif command == "B":
                    row += count
                elif command == "K":
                    while len(lines) <= row:
                        lines.append([])
                    del lines[row][col:]
                i = match.end()
                continue
        if char == "\n":
            row, col = row + 1, 0
        elif char == "\r":
            col = 0
        else:
            while len(lines) <= row:
                lines.append([])
            line = lines[row]
            if col < len(line):
                line[col] = char
            else:
                line.extend(" " * (col - len(line)))
                line.append(char)
            col += 1
        i += 1
    kept = ["".join(line).rstrip() for line in lines]
    kept = [line for line in kept if line.strip()]
    return "\n".join(kept) + ("\n" if kept else "")


def clean_notebook(nb) -> None:
    """Merge the stream outputs of each cell by name (stdout, stderr; at the place of the
    first, as Jupyter Book's ``nb_merge_streams`` shows them), collapse progress bars to
    their final state, and fold papermill's injected-parameters cell like the parameters
    cell it follows (in place)."""
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "injected-parameters" in tags and "hide-input" not in tags:
            tags.append("hide-input")
        merged, streams = [], {}
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                name = output.get("name")
                if name in streams:
                    streams[name]["text"] = _text(streams[name]["text"]) + _text(output["text"])
                    continue
                streams[name] = output
            merged.append(output)
        for output in streams.values():
            output["text"] = collapse_progress(_text(output["text"]))
        cell["outputs"] = [o for o in merged
                           if o.get("output_type") != "stream" or o["text"].strip()]


def _text(text: str | list) -> str:
    return "".join(text) if isinstance(text, list) else text


def _executed_profile(path: Path) -> str | None:
    """The profile an executed notebook ran with (papermill's metadata), or None."""
    try:
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
        return nb["metadata"]["papermill"]["parameters"].get("profile")
    except (OSError, KeyError, ValueError, AttributeError):
        return None


def _load_timings(root: Path) -> dict:
    try:
        with open(root / TIMINGS_FILE, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _ensure_executed_dir(root: Path) -> Path:
    folder = root / EXECUTED_DIR
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# written by pruninglib.book: executed notebooks are build products\n*\n")
    return folder


def execute_chapter(root: Path, chapter: str, profile: str, overrides: dict) -> float:
    """Execute ``notebooks/<chapter>.ipynb`` with papermill into ``_build/executed/``, clean
    it, copy it to ``book/executed/``; return the wall time in seconds.

    Raises :class:`BuildError` naming the notebook and the failing cell.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = SOURCE_DIR / f"{chapter}.ipynb"
    output = BUILD_AREA / f"{chapter}.ipynb"
    if not (root / source).is_file():
        raise BuildError(f"_toc.yml lists chapter {chapter!r} but {source} does not exist")
    (root / BUILD_AREA).mkdir(parents=True, exist_ok=True)
    start = time.time()
    code_cells = [c for c in nbformat.read(str(root / source), as_version=4).cells
                  if c.cell_type == "code"]

    def announce(cell, cell_index, **_) -> None:
        """Progress: one line per code cell; the notebook's own progress bars (its stderr)
        are streamed below it."""
        if cell.get("cell_type") != "code":
            return
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags:
            return
        announce.count += 1
        first = next((line for line in cell.source.splitlines() if line.strip()), "")
        print(f"  {chapter} [{announce.count}/{len(code_cells)} cells, "
              f"{format_seconds(time.time() - start)}] {first[:60]}", flush=True)

    announce.count = 0
    recorded = root / glance.CLAIMS_BUILD_DIR / f"{chapter}.json"
    recorded.unlink(missing_ok=True)  # only this execution's verdict rows
    time_log = root / BUILD_AREA / f"{chapter}.compute.jsonl"
    time_log.unlink(missing_ok=True)  # only this execution's computations
    saved_env = {name: os.environ.get(name)
                 for name in (CLAIMS_DIR_ENV, CHAPTER_ENV, TIME_LOG_VARIABLE)}
    # papermill's kernel inherits this environment: verdict_table records its rows there,
    # and every cached computation its cost (runs.cache.log_compute_time)
    os.environ[CLAIMS_DIR_ENV] = str((root / glance.CLAIMS_BUILD_DIR).resolve())
    os.environ[CHAPTER_ENV] = chapter
    os.environ[TIME_LOG_VARIABLE] = str(time_log.resolve())
    cwd = os.getcwd()
    os.chdir(root)  # relative paths in papermill's metadata, never the builder's home folder
    try:
        papermill.execute_notebook(
            str(source), str(output), parameters={"profile": profile, **overrides},
            cwd=".", kernel_name="python3", language="python", progress_bar=False,
            log_output=False, stderr_file=sys.stderr, request_save_on_cell_execute=True,
            on_cell_execute=announce,
            # the kernel's own start-up warnings are not the notebook's
            extra_arguments=["--IPKernelApp.log_level=ERROR"])
    except PapermillExecutionError as error:
        # the executed copy holds papermill's injected-parameters cell right after the
        # parameters cell: give the cell number in the source notebook as well
        executed = nbformat.read(str(root / output), as_version=4)
        injected = next((i for i, c in enumerate(executed.cells)
                         if "injected-parameters" in c.get("metadata", {}).get("tags", [])), None)
        index = error.cell_index
        source_index = index - 1 if injected is not None and index > injected else index
        first_line = next((line for line in error.source.splitlines() if line.strip()), "")
        tail = [_ANSI.sub("", line) for line in error.traceback][-12:]
        raise BuildError(
            "\n".join(tail) + "\n"
            f"error: {source} failed in cell {source_index + 1} (execution count "
            f"{error.exec_count}, starting '{first_line[:70]}'): {error.ename}: "
            f"{error.evalue.splitlines()[0] if error.evalue else ''}\n"
            f"       the executed notebook with the full traceback: {output}") from None
    finally:
        os.chdir(cwd)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    seconds = time.time() - start
    nb = nbformat.read(str(root / output), as_version=4)
    clean_notebook(nb)
    nbformat.write(nb, str(root / output))
    shutil.copyfile(root / output, _ensure_executed_dir(root) / f"{chapter}.ipynb")
    keep_claims(root, chapter)
    return seconds


def keep_claims(root: Path, chapter: str) -> Path | None:
    """Copy the verdict rows the chapter's execution recorded to
    ``book/executed/claims/<chapter>.json`` (removing an older copy if it recorded none)."""
    recorded = root / glance.CLAIMS_BUILD_DIR / f"{chapter}.json"
    kept = _ensure_executed_dir(root) / "claims" / f"{chapter}.json"
    if not recorded.is_file():
        kept.unlink(missing_ok=True)
        return None
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(recorded, kept)
    return kept


def _package_versions() -> dict[str, str]:
    names = ("pruninglib", "torch", "numpy", "pandas", "matplotlib", "seaborn", "papermill",
             "jupyter-book", "sphinx", "sphinx-book-theme", "myst-nb", "sphinxcontrib-bibtex")
    return {name: package_version(name) for name in names}


def _hardware() -> dict[str, str]:
    info = {"CPU": f"{cpu_model()} ({os.cpu_count()} logical CPUs)"}
    try:
        import torch

        info["GPU"] = (", ".join(torch.cuda.get_device_name(i)
                                 for i in range(torch.cuda.device_count()))
                       if torch.cuda.is_available() else "none used")
    except Exception:  # noqa: BLE001
        info["GPU"] = "unknown"
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        info["memory"] = f"{pages / 2 ** 30:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        pass
    info["system"] = f"{platform.platform()}, Python {platform.python_version()}"
    return info


def write_build_report(root: Path, chapters: list[str], profiles: dict) -> Path:
    """Write ``book/executed/build_report.md`` (included by the "Reproduce this book"
    appendix): hardware, versions and wall time per chapter of the last build."""
    timings = _load_timings(root)
    lines = ["| chapter | profile | explicit parameters | wall time | training | pruning "
             "| other computations | rest of the notebook | executed |",
             "|---|---|---|---|---|---|---|---|---|"]
    total = 0.0
    for chapter in chapters:
        t = timings.get(chapter)
        title = profiles["chapters"].get(chapter, {}).get("title", chapter)
        if t is None:
            lines.append(f"| {title} | — | — | not executed | | | | | — |")
            continue
        total += t["seconds"]
        explicit = ", ".join(f"`{k}={v!r}`" for k, v in t.get("overrides", {}).items()) or "none"
        split = t.get("split", {})
        parts = " | ".join(format_seconds(split[k]) if k in split else "—"
                           for k in ("training", "pruning", "analysis", "notebook"))
        lines.append(f"| {title} | `{t['profile']}` | {explicit} | "
                     f"{format_seconds(t['seconds'])} | {parts} | {t['finished']} |")
    lines.append(f"| **all chapters** | | | **{format_seconds(total)}** | | | | | |")
    hardware = "\n".join(f"| {k} | {v} |" for k, v in _hardware().items())
    versions = "\n".join(f"| {k} | {v} |" for k, v in _package_versions().items())
    text = (
        "<!-- generated by `python -m pruninglib.book build`; do not edit -->\n\n"
        f"Built from commit `{git_commit(root)}` on "
        f"{_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC.\n\n"
        "**Wall time per chapter** (executing the notebook, including loading cached "
        "results: a chapter whose runs were all in the run cache takes seconds), and where it "
        "went: training and pruning of the runs computed in this build, other cached "
        "computations (NTKs, layer similarities, TPrune seeds, ...), and the rest of the "
        "notebook (loading stored results, tables, figures). Computations on a process pool "
        "are summed over its workers. Rendering the HTML: "
        f"{_html_seconds(root)}.\n\n"
        + "\n".join(lines) + "\n\n**Hardware**\n\n| | |\n|---|---|\n" + hardware
        + "\n\n**Versions**\n\n| package | version |\n|---|---|\n" + versions + "\n")
    path = _ensure_executed_dir(root) / REPORT_FILE.name
    path.write_text(text, encoding="utf-8")
    return path


PROFILE_TIMES_FILE = "timings_by_profile.json"


def where_the_time_went(root: Path, chapter: str, wall_seconds: float) -> dict:
    """Split a chapter's execution into training, pruning and scoring, other cached
    computations (analyses: NTKs, similarities, ...) and the rest of the notebook (loading
    cached results, tables, figures), from the computations it logged. Seconds; with a
    process pool the computations are summed over workers and can exceed the wall time."""
    split = {"training": 0.0, "pruning": 0.0, "analysis": 0.0}
    try:
        lines = (root / BUILD_AREA / f"{chapter}.compute.jsonl").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        record = json.loads(line)
        if "train_seconds" in record:
            split["training"] += record["train_seconds"]
            split["pruning"] += record.get("prune_seconds", 0.0)
            split["analysis"] += max(0.0, record["seconds"] - record["train_seconds"]
                                     - record.get("prune_seconds", 0.0))
        elif record["kind"] in PRUNING_KINDS:
            split["pruning"] += record["seconds"]
        else:
            split["analysis"] += record["seconds"]
    split["notebook"] = max(0.0, wall_seconds - sum(split.values()))
    split["computations"] = len(lines)
    return {k: round(v, 1) for k, v in split.items()}


PRUNING_KINDS = ("collapse", "masks")  # cached kinds that only prune


def record_profile_time(root: Path, chapter: str, timing: dict) -> None:
    """Keep the last wall time of ``chapter`` per profile in
    ``book/executed/timings_by_profile.json`` (it survives later builds of other profiles;
    the teaching page shows it)."""
    path = _ensure_executed_dir(root) / PROFILE_TIMES_FILE
    try:
        times = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        times = {}
    times.setdefault(chapter, {})[timing["profile"]] = {
        k: timing[k] for k in ("seconds", "finished", "overrides")}
    path.write_text(json.dumps(times, indent=1) + "\n", encoding="utf-8")


def write_teaching_times(root: Path, chapters: list[str], profiles: dict) -> Path:
    """Write ``book/executed/teaching_times.md`` (included by the teaching page): the last
    measured wall time of every chapter at the smoke and cpu profiles on this machine."""
    try:
        times = json.loads((root / EXECUTED_DIR / PROFILE_TIMES_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        times = {}

    def cell(chapter: str, profile: str) -> str:
        t = times.get(chapter, {}).get(profile)
        if t is None:
            return "not run on this machine yet"
        cached = " (explicit parameters)" if t.get("overrides") else ""
        return f"{format_seconds(t['seconds'])}{cached}, {t['finished']}"

    lines = ["| chapter | smoke | cpu |", "|---|---|---|"]
    for chapter in chapters:
        title = profiles["chapters"].get(chapter, {}).get("title", chapter)
        lines.append(f"| {title} | {cell(chapter, 'smoke')} | {cell(chapter, 'cpu')} |")
    text = ("<!-- generated by `python -m pruninglib.book build`; do not edit -->\n\n"
            f"Measured on {cpu_model()}; a time includes loading results already in the run "
            "cache, so a rebuild is faster than a first (cold) build.\n\n"
            + "\n".join(lines) + "\n")
    path = _ensure_executed_dir(root) / TEACHING_TIMES_FILE.name
    path.write_text(text, encoding="utf-8")
    return path


def _html_seconds(root: Path) -> str:
    try:
        seconds = json.loads((root / BUILD_AREA / "html_seconds.json").read_text())["seconds"]
    except (OSError, ValueError, KeyError):
        return "not measured yet (the report is written before the HTML is built)"
    return f"{format_seconds(seconds)} at the previous build"


def build_html(root: Path) -> None:
    """``jupyter-book build .`` with warnings as errors; raises :class:`BuildError`."""
    exe = Path(sys.executable).with_name("jupyter-book")
    command = [str(exe) if exe.exists() else (shutil.which("jupyter-book") or "jupyter-book"),
               "build", ".", "--builder", "html", "-W", "-n", "--keep-going"]
    result = subprocess.run(command, cwd=root)
    if result.returncode != 0:
        raise BuildError(f"error: jupyter-book build failed (exit {result.returncode}); "
                         "the first warning above is the cause (warnings are errors)")


def build(profile: str = DEFAULT_PROFILE, chapters: list[str] | None = None,
          overrides: dict | None = None, *, html: bool = True, execute: bool = True,
          root: Path | None = None) -> None:
    """Execute the chapter notebooks and build the book.

    profile: smoke | cpu | paper, for every executed chapter.
    chapters: execute only these (by name); another chapter in ``_toc.yml`` is executed too
        only when it has no executed copy yet (the HTML needs one), and keeps its copy even if
        that ran with another profile (the build report lists each chapter's profile).
        None = all.
    overrides: explicit parameters, given to every executed chapter that declares them.
    html: build the HTML afterwards. execute: execute notebooks (False: only rebuild HTML).
    """
    root = root or repo_root()
    profiles = load_profiles(root / PROFILES_FILE)
    check_profile(profile, profiles)
    overrides = dict(overrides or {})
    in_toc = toc_chapters(root)
    for chapter in in_toc:
        if chapter not in profiles["chapters"]:
            raise ParameterError(f"_toc.yml lists chapter {chapter!r} that has no entry in "
                                 f"{PROFILES_FILE}")
    if chapters:
        for chapter in chapters:
            if chapter not in in_toc:
                raise ParameterError(f"unknown chapter {chapter!r}: choose one of "
                                     + ", ".join(in_toc))
    wanted = set(chapters or in_toc)
    for name in overrides:
        if not any(name in knobs(c, profiles) for c in in_toc if c in wanted):
            raise ParameterError(f"unknown parameter {name!r}: no chapter being executed "
                                 "declares it (see python -m pruninglib.book list)")
    todo = []
    for chapter in in_toc:
        page = root / EXECUTED_DIR / f"{chapter}.ipynb"
        if chapter in wanted:
            todo.append((chapter, ""))
        elif execute and html and not page.exists():  # the HTML needs every page
            todo.append((chapter, " (no executed copy yet)"))
        elif execute and not chapters and _executed_profile(page) != profile:
            todo.append((chapter, f" (its copy ran with profile {_executed_profile(page)})"))
    if execute:
        timings = _load_timings(root)
        started = time.time()
        for number, (chapter, why) in enumerate(todo, 1):
            explicit = {k: v for k, v in overrides.items() if k in knobs(chapter, profiles)}
            for name, value in explicit.items():  # fail before starting a kernel
                coerce(chapter, name, value, knobs(chapter, profiles)[name])
            print(f"[{number}/{len(todo)}] executing {SOURCE_DIR / (chapter + '.ipynb')} "
                  f"with profile {profile}{why}", flush=True)
            seconds = execute_chapter(root, chapter, profile, explicit)
            print(f"[{number}/{len(todo)}] {chapter} done in {format_seconds(seconds)}",
                  flush=True)
            timings[chapter] = {
                "seconds": round(seconds, 1), "profile": profile, "overrides": explicit,
                "finished": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                "split": where_the_time_went(root, chapter, seconds)}
            (root / BUILD_AREA).mkdir(parents=True, exist_ok=True)
            (root / TIMINGS_FILE).write_text(json.dumps(timings, indent=1) + "\n")
            record_profile_time(root, chapter, timings[chapter])
        print(f"executed {len(todo)} chapter(s) in {format_seconds(time.time() - started)}",
              flush=True)
    if not html:
        return
    missing = [c for c in in_toc if not (root / EXECUTED_DIR / f"{c}.ipynb").exists()]
    if missing:
        raise BuildError(f"error: no executed copy of {', '.join(missing)}: "
                         "run python -m pruninglib.book build without --no-execute")
    write_build_report(root, in_toc, profiles)
    write_teaching_times(root, in_toc, profiles)
    rows = glance.write_claims_csv(root, in_toc)
    titles = {c: profiles["chapters"].get(c, {}).get("title", c) for c in in_toc}
    glance.write_glance(root, in_toc, titles, rows=rows)
    print(f"{len(rows)} verdict row(s) of {len({r['chapter'] for r in rows})} chapter(s) in "
          f"{glance.CLAIMS_CSV}; page {glance.GLANCE_PAGE}", flush=True)
    if html:
        started = time.time()
        print("building the HTML: jupyter-book build . (warnings are errors)", flush=True)
        build_html(root)
        (root / BUILD_AREA / "html_seconds.json").write_text(
            json.dumps({"seconds": round(time.time() - started, 1)}))
        print(f"book built in {format_seconds(time.time() - started)}: "
              f"{HTML_DIR / 'index.html'}", flush=True)


# ------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------
def _parse_overrides(pairs: list[list[str]] | None) -> dict:
    """``-p NAME VALUE`` pairs; values are read as YAML like papermill's ``-p``/``-y``."""
    result = {}
    for name, value in pairs or []:
        try:
            result[name] = yaml.safe_load(value)
        except yaml.YAMLError:
            result[name] = value
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pruninglib.book",
        description="Execute the chapter notebooks with a profile and build the book.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="execute the chapters listed in _toc.yml, then build HTML")
    b.add_argument("--profile", default=os.environ.get("PROFILE") or DEFAULT_PROFILE,
                   help="smoke | cpu | paper (default: cpu, or $PROFILE)")
    b.add_argument("--chapter", action="append", metavar="NAME",
                   help="execute only this chapter (repeatable); others keep their copy")
    b.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="an explicit parameter for every chapter that declares it")
    b.add_argument("--no-html", action="store_true", help="execute only, no jupyter-book")
    b.add_argument("--no-execute", action="store_true",
                   help="rebuild the HTML from the executed copies already there")
    lst = sub.add_parser("list", help="chapters (in _toc.yml order), profiles, parameters")
    lst.add_argument("--profile", default=DEFAULT_PROFILE)
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            build(args.profile, args.chapter, _parse_overrides(args.parameter),
                  html=not args.no_html, execute=not args.no_execute)
        else:
            root = repo_root()
            profiles = load_profiles(root / PROFILES_FILE)
            print("profiles: " + "; ".join(f"{k}: {v}" for k, v in profiles["profiles"].items()))
            for chapter in toc_chapters(root):
                print()
                print(repr(parameters_for(chapter, args.profile, profiles=profiles)))
    except ParameterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BuildError as error:
        print(str(error), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
