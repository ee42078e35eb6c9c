"""The book pipeline: chapter parameters, the environment printout, and the book runner.

Three users, one module:

* **Notebooks** resolve their parameters with :func:`parameters_from` (or
  :func:`parameters_for`) from ``notebooks/profiles.yml`` and end with
  :func:`print_environment`.
* **The runner** (``python -m pruninglib.book build --profile cpu``, wrapped by ``make book``)
  executes every chapter notebook listed in ``_toc.yml`` with papermill, then builds the HTML
  with ``jupyter-book build .`` (warnings are errors).
* **Sphinx** loads this module as an extension (``_config.yml``) so that the launch and
  source buttons of an executed chapter point at its source notebook in ``notebooks/``.

Where things go (all relative to the repository root):

* ``notebooks/<chapter>.ipynb`` — the source, committed without outputs;
* ``_build/executed/<chapter>.ipynb`` — papermill's output, written cell by cell (on failure
  it holds the traceback), plus ``timings.json``;
* ``book/executed/<chapter>.ipynb`` — the last successful execution with progress-bar
  updates collapsed: the page ``_toc.yml`` lists. The folder ignores itself in git
  (it holds a ``.gitignore`` with ``*``), as does the generated ``build_report.md`` beside it;
* ``_build/html/`` — the book.

Parameters resolve, later wins: ``common.all`` < ``common.<profile>`` <
``chapters.<name>.all`` < ``chapters.<name>.<profile>`` < an explicit value (a notebook
parameter that is not ``None``, ``papermill -p``, or the runner's ``-p``).
"""
from __future__ import annotations

import argparse
import ast
import datetime as _dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Iterable

import yaml

PROFILES_FILE = Path("notebooks") / "profiles.yml"
SOURCE_DIR = Path("notebooks")
EXECUTED_DIR = Path("book") / "executed"      # pages Jupyter Book renders (git-ignored)
BUILD_AREA = Path("_build") / "executed"      # papermill's output and timings
HTML_DIR = Path("_build") / "html"
TIMINGS_FILE = BUILD_AREA / "timings.json"
REPORT_FILE = EXECUTED_DIR / "build_report.md"
DEFAULT_PROFILE = "cpu"

# Names IPython puts in a notebook's namespace that are not parameters.
_IPYTHON_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "open"}

_STATE: dict[str, Any] = {"started": None, "parameters": None}


class ParameterError(ValueError):
    """A profile, chapter or parameter that does not exist, or a value of the wrong type.

    The message is one line: what was asked for and what is allowed. In a notebook it shows
    as that line alone, without a traceback (IPython's ``_render_traceback_`` hook).
    """

    def _render_traceback_(self) -> list[str]:
        return [f"ParameterError: {self}"]


# ------------------------------------------------------------------------------------------
# Locations
# ------------------------------------------------------------------------------------------
def repo_root(start: str | os.PathLike | None = None) -> Path:
    """The repository root: the nearest folder at or above ``start`` (default: the current
    directory) that holds ``notebooks/profiles.yml``; else the folder above this package."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PROFILES_FILE).is_file():
            return folder
    package_parent = Path(__file__).resolve().parents[1]
    if (package_parent / PROFILES_FILE).is_file():
        return package_parent
    raise ParameterError(
        f"cannot find {PROFILES_FILE} in {here} or above: run from the repository root")


def load_profiles(path: str | os.PathLike | None = None) -> dict:
    """The parsed ``notebooks/profiles.yml`` (``profiles``, ``common``, ``chapters``)."""
    path = Path(path) if path is not None else repo_root() / PROFILES_FILE
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    for section in ("profiles", "common", "chapters"):
        if not isinstance(data.get(section), dict):
            raise ParameterError(f"{path}: section {section!r} is missing or not a mapping")
    return data


def profile_names(profiles: dict | None = None) -> list[str]:
    """Profile names in file order (smoke, cpu, paper)."""
    return list((profiles or load_profiles())["profiles"])


def chapter_names(profiles: dict | None = None) -> list[str]:
    """Chapters that have parameters in ``profiles.yml``, in file order."""
    return list((profiles or load_profiles())["chapters"])


def knobs(chapter: str, profiles: dict | None = None) -> dict[str, Any]:
    """The parameters a chapter declares, with their profile-independent defaults
    (``common.all`` updated by ``chapters.<chapter>.all``); ``profile`` not included."""
    profiles = profiles or load_profiles()
    _check_chapter(chapter, profiles)
    declared = dict(profiles["common"].get("all") or {})
    declared.update(profiles["chapters"][chapter].get("all") or {})
    return declared


def _check_chapter(chapter: str, profiles: dict) -> None:
    if chapter not in profiles["chapters"]:
        raise ParameterError(f"unknown chapter {chapter!r}: choose one of "
                             + ", ".join(profiles["chapters"]))


def _check_profile(profile: Any, profiles: dict) -> None:
    if profile not in profiles["profiles"]:
        raise ParameterError(f"unknown profile {profile!r}: choose one of "
                             + ", ".join(profiles["profiles"]))


# ------------------------------------------------------------------------------------------
# Parameters
# ------------------------------------------------------------------------------------------
class Parameters(Mapping):
    """A chapter's resolved parameters: read-only, by attribute (``P.densities``) or key.

    ``profile`` is the profile used, ``chapter`` the chapter, ``explicit`` the names whose
    value was given explicitly rather than taken from the profile.
    """

    def __init__(self, chapter: str, profile: str, values: dict, explicit: Iterable[str]):
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "chapter", chapter)
        object.__setattr__(self, "profile", profile)
        object.__setattr__(self, "explicit", tuple(explicit))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(
                f"chapter {self.chapter!r} has no parameter {name!r}: it has "
                + ", ".join(self._values)) from None

    def __setattr__(self, name, value):
        raise AttributeError("Parameters are read-only; pass a new value as a parameter")

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def describe(self) -> str:
        """``cpu`` or ``cpu; explicit: seeds=1, epochs=2``."""
        text = self.profile
        if self.explicit:
            text += "; explicit: " + ", ".join(f"{k}={self._values[k]!r}" for k in self.explicit)
        return text

    def __repr__(self) -> str:
        width = max(len(k) for k in self._values) if self._values else 0
        lines = [f"Parameters of {self.chapter} (profile {self.describe()})"]
        shown = {key: repr(value) for key, value in self._values.items()}
        column = min(max(map(len, shown.values()), default=0), 40)
        for key, value in shown.items():
            source = "explicit" if key in self.explicit else f"profile {self.profile}"
            lines.append(f"  {key:<{width}}  {value:<{column}}  [{source}]")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from html import escape

        rows = "".join(
            f"<tr><td><code>{escape(k)}</code></td><td><code>{escape(repr(v))}</code></td>"
            f"<td>{'explicit' if k in self.explicit else 'profile ' + escape(self.profile)}"
            "</td></tr>" for k, v in self._values.items())
        return ('<table class="parameters-table"><thead><tr><th>parameter</th><th>value</th>'
                f"<th>from</th></tr></thead><tbody>{rows}</tbody></table>")


def _coerce(chapter: str, name: str, value: Any, default: Any) -> Any:
    """Bring an explicit value to the type of the profile's value; strings from the command
    line are read as YAML (``"[0.1, 0.01]"``, ``"{conv4: 0.5}"``)."""
    def fail(allowed: str) -> None:
        raise ParameterError(
            f"parameter {name}={value!r} of chapter {chapter!r} is not allowed: {allowed}")

    if isinstance(value, str) and not isinstance(default, str):
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError:
            fail("a value readable as YAML")
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            fail("true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            fail("an integer")
        return int(value)
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            fail("a number")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            fail("a string")
        return value
    if isinstance(default, list):
        if isinstance(value, (tuple, range)):
            value = list(value)
        if not isinstance(value, list):
            value = [value]
        return value
    if isinstance(default, dict):
        if not isinstance(value, dict):
            fail("a mapping, e.g. '{key: value}'")
        merged = dict(default)
        merged.update(value)
        return merged
    return value


def parameters_for(chapter: str, profile: str = DEFAULT_PROFILE, *,
                   profiles: dict | None = None, **overrides: Any) -> Parameters:
    """Resolve a chapter's parameters for a profile; explicit ``overrides`` win.

    An override of ``None`` means "the profile's value" (the notebooks' parameters cells use
    ``None`` for every knob). Strings are read as YAML when the knob is not a string, so
    ``papermill -p densities "[0.1, 0.01]"`` works; a mapping knob (``widths``) is updated,
    not replaced. Raises :class:`ParameterError` (one line) for an unknown chapter, profile or
    parameter, or a value of the wrong type.
    """
    profiles = profiles or load_profiles()
    _check_chapter(chapter, profiles)
    _check_profile(profile, profiles)
    declared = knobs(chapter, profiles)
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise ParameterError(
            f"unknown parameter {unknown[0]!r} for chapter {chapter!r}: known are profile, "
            + ", ".join(declared))
    values = dict(declared)
    for layer in (profiles["common"].get(profile), profiles["chapters"][chapter].get(profile)):
        layer = layer or {}
        stray = sorted(set(layer) - set(declared))
        if stray:
            raise ParameterError(
                f"{PROFILES_FILE}: profile {profile!r} of chapter {chapter!r} sets "
                f"{stray[0]!r}, which is not declared under 'all'")
        values.update(layer)
    explicit = []
    for name, value in overrides.items():
        if value is None:
            continue
        values[name] = _coerce(chapter, name, value, values[name])
        explicit.append(name)
    params = Parameters(chapter, profile, values, explicit)
    _STATE["started"] = time.time()
    _STATE["parameters"] = params
    return params


def _injected_names(namespace: Mapping) -> list[str]:
    """Names assigned by papermill's injected-parameters cell, read from IPython's input
    history (papermill writes that cell as ``# Parameters`` followed by assignments)."""
    history = namespace.get("In") or namespace.get("_ih") or []
    for source in reversed(list(history)):
        if isinstance(source, str) and source.lstrip().startswith("# Parameters"):
            try:
                tree = ast.parse(source)
            except SyntaxError:
                return []
            return [target.id for node in tree.body if isinstance(node, ast.Assign)
                    for target in node.targets if isinstance(target, ast.Name)]
    return []


def parameters_from(chapter: str, namespace: Mapping) -> Parameters:
    """Resolve a notebook's parameters from its namespace (pass ``globals()``).

    Reads ``profile`` and every knob the chapter declares; a knob left at ``None`` takes the
    profile's value. A parameter injected by papermill that the chapter does not declare
    raises :class:`ParameterError`, so a typo in ``-p`` fails instead of being ignored.
    """
    profiles = load_profiles()
    declared = knobs(chapter, profiles)
    unknown = [n for n in _injected_names(namespace)
               if n != "profile" and n not in declared and n not in _IPYTHON_NAMES]
    if unknown:
        raise ParameterError(
            f"unknown parameter {unknown[0]!r} for chapter {chapter!r}: known are profile, "
            + ", ".join(declared))
    profile = namespace.get("profile") or DEFAULT_PROFILE
    overrides = {name: namespace[name] for name in declared if name in namespace}
    return parameters_for(chapter, profile, profiles=profiles, **overrides)


# ------------------------------------------------------------------------------------------
# Environment printout
# ------------------------------------------------------------------------------------------
def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # noqa: BLE001 - a missing package is reported, not raised
        return "not installed"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit(cwd: str | os.PathLike | None = None) -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=cwd,
                                capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=cwd, capture_output=True, text=True, timeout=10)
        return commit.stdout.strip() + (" (with uncommitted changes)"
                                         if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _device_description(device: str = "auto") -> str:
    import torch

    try:
        from .train import resolve_device

        dev = resolve_device(device)
    except Exception:  # noqa: BLE001 - describe what was asked for, never fail here
        dev = torch.device("cuda" if device == "auto" and torch.cuda.is_available()
                           else ("cpu" if device == "auto" else device))
    if dev.type == "cuda":
        return f"{dev}: {torch.cuda.get_device_name(dev)} (CUDA {torch.version.cuda})"
    if dev.type == "cpu":
        return f"cpu: {_cpu_model()}"
    return str(dev)


def environment(params: Parameters | None = None) -> dict[str, str]:
    """What :func:`print_environment` prints, as an ordered dict of strings."""
    import torch

    params = params if params is not None else _STATE["parameters"]
    info: dict[str, str] = {}
    if params is not None:
        info["chapter"] = params.chapter
        info["profile"] = params.describe()
    if _STATE["started"] is not None:
        seconds = time.time() - _STATE["started"]
        info["wall time"] = f"{_format_seconds(seconds)} (from resolving the parameters to here)"
    device = params.get("device", "auto") if params is not None else "auto"
    info["device"] = _device_description(device)
    info["threads"] = (f"torch {torch.get_num_threads()} intra-op, "
                       f"{torch.get_num_interop_threads()} inter-op; {os.cpu_count()} CPUs")
    info["platform"] = f"{platform.platform()}, Python {platform.python_version()}"
    for package in ("torch", "numpy", "pandas", "matplotlib", "seaborn", "papermill"):
        info[package] = _version(package)
    info["pruninglib"] = f"{_version('pruninglib')} (git {_git_commit()})"
    info["finished"] = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return info


def print_environment(params: Parameters | None = None) -> None:
    """Print versions, device, threads, profile and wall time (the last cell of a chapter).

    ``params`` defaults to the parameters resolved last in this process; the wall time runs
    from that resolution to this call.
    """
    info = environment(params)
    width = max(map(len, info))
    print("Environment this page was computed in")
    for key, value in info.items():
        print(f"  {key:<{width}}  {value}")


def _format_seconds(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


# ------------------------------------------------------------------------------------------
# The runner
# ------------------------------------------------------------------------------------------
class BuildError(RuntimeError):
    """A chapter notebook or the HTML build failed (the message says where)."""


def toc_chapters(root: Path) -> list[str]:
    """Chapter notebooks listed in ``_toc.yml`` (entries ``file: book/executed/<name>``),
    in reading order."""
    with open(root / "_toc.yml", encoding="utf-8") as f:
        toc = yaml.safe_load(f)
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            entry = node.get("file")
            if isinstance(entry, str):
                path = Path(entry)
                if path.parent == EXECUTED_DIR:
                    found.append(path.stem if path.suffix == ".ipynb" else path.name)
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
    first, as Jupyter Book's ``nb_merge_streams`` shows them) and collapse progress bars to
    their final state (in place)."""
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
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
              f"{_format_seconds(time.time() - start)}] {first[:60]}", flush=True)

    announce.count = 0
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
    seconds = time.time() - start
    nb = nbformat.read(str(root / output), as_version=4)
    clean_notebook(nb)
    nbformat.write(nb, str(root / output))
    shutil.copyfile(root / output, _ensure_executed_dir(root) / f"{chapter}.ipynb")
    return seconds


def _package_versions() -> dict[str, str]:
    names = ("pruninglib", "torch", "numpy", "pandas", "matplotlib", "seaborn", "papermill",
             "jupyter-book", "sphinx", "sphinx-book-theme", "myst-nb", "sphinxcontrib-bibtex")
    return {name: _version(name) for name in names}


def _hardware() -> dict[str, str]:
    info = {"CPU": f"{_cpu_model()} ({os.cpu_count()} logical CPUs)"}
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
    lines = ["| chapter | profile | explicit parameters | wall time | executed |",
             "|---|---|---|---|---|"]
    total = 0.0
    for chapter in chapters:
        t = timings.get(chapter)
        title = profiles["chapters"].get(chapter, {}).get("title", chapter)
        if t is None:
            lines.append(f"| {title} | — | — | not executed | — |")
            continue
        total += t["seconds"]
        explicit = ", ".join(f"`{k}={v!r}`" for k, v in t.get("overrides", {}).items()) or "none"
        lines.append(f"| {title} | `{t['profile']}` | {explicit} | "
                     f"{_format_seconds(t['seconds'])} | {t['finished']} |")
    lines.append(f"| **all chapters** | | | **{_format_seconds(total)}** | |")
    hardware = "\n".join(f"| {k} | {v} |" for k, v in _hardware().items())
    versions = "\n".join(f"| {k} | {v} |" for k, v in _package_versions().items())
    text = (
        "<!-- generated by `python -m pruninglib.book build`; do not edit -->\n\n"
        f"Built from commit `{_git_commit(root)}` on "
        f"{_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC.\n\n"
        "**Wall time per chapter** (executing the notebook, including loading cached "
        "results: a chapter whose runs were all in the run cache takes seconds)\n\n"
        + "\n".join(lines) + "\n\n**Hardware**\n\n| | |\n|---|---|\n" + hardware
        + "\n\n**Versions**\n\n| package | version |\n|---|---|\n" + versions + "\n")
    path = _ensure_executed_dir(root) / REPORT_FILE.name
    path.write_text(text, encoding="utf-8")
    return path


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
    _check_profile(profile, profiles)
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
        elif execute and not page.exists():
            todo.append((chapter, " (no executed copy yet)"))
        elif execute and not chapters and _executed_profile(page) != profile:
            todo.append((chapter, f" (its copy ran with profile {_executed_profile(page)})"))
    if execute:
        timings = _load_timings(root)
        started = time.time()
        for number, (chapter, why) in enumerate(todo, 1):
            explicit = {k: v for k, v in overrides.items() if k in knobs(chapter, profiles)}
            for name, value in explicit.items():  # fail before starting a kernel
                _coerce(chapter, name, value, knobs(chapter, profiles)[name])
            print(f"[{number}/{len(todo)}] executing {SOURCE_DIR / (chapter + '.ipynb')} "
                  f"with profile {profile}{why}", flush=True)
            seconds = execute_chapter(root, chapter, profile, explicit)
            print(f"[{number}/{len(todo)}] {chapter} done in {_format_seconds(seconds)}",
                  flush=True)
            timings[chapter] = {
                "seconds": round(seconds, 1), "profile": profile, "overrides": explicit,
                "finished": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
            (root / BUILD_AREA).mkdir(parents=True, exist_ok=True)
            (root / TIMINGS_FILE).write_text(json.dumps(timings, indent=1) + "\n")
        print(f"executed {len(todo)} chapter(s) in {_format_seconds(time.time() - started)}",
              flush=True)
    missing = [c for c in in_toc if not (root / EXECUTED_DIR / f"{c}.ipynb").exists()]
    if missing:
        raise BuildError(f"error: no executed copy of {', '.join(missing)}: "
                         "run python -m pruninglib.book build without --no-execute")
    write_build_report(root, in_toc, profiles)
    if html:
        started = time.time()
        print("building the HTML: jupyter-book build . (warnings are errors)", flush=True)
        build_html(root)
        print(f"book built in {_format_seconds(time.time() - started)}: "
              f"{HTML_DIR / 'index.html'}", flush=True)


# ------------------------------------------------------------------------------------------
# Sphinx extension: launch / source buttons of executed chapters point at notebooks/
# ------------------------------------------------------------------------------------------
def _point_buttons_at_sources(app, pagename, templatename, context, doctree) -> None:
    """Rewrite ``book/executed/<chapter>.ipynb`` to ``notebooks/<chapter>.ipynb`` in the
    header buttons' external links (Binder, Colab, repository source/edit links); the
    download link (relative, the executed copy) is left alone."""
    prefix = EXECUTED_DIR.as_posix() + "/"
    if not pagename.startswith(prefix):
        return
    executed = pagename + ".ipynb"
    source = (SOURCE_DIR / Path(pagename).name).as_posix() + ".ipynb"

    def fix(buttons) -> None:
        for button in buttons or []:
            url = button.get("url")
            if isinstance(url, str) and url.startswith(("http://", "https://")):
                button["url"] = url.replace(executed, source)
            fix(button.get("buttons"))

    fix(context.get("header_buttons"))


def setup(app) -> dict:
    """Sphinx entry point (listed under ``sphinx.extra_extensions`` in ``_config.yml``)."""
    app.connect("html-page-context", _point_buttons_at_sources, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


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
