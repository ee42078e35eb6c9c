"""What a chapter notebook calls in its kernel: its parameters and the environment printout.

Notebooks resolve their parameters with :func:`parameters_from` (or :func:`parameters_for`)
from ``notebooks/profiles.yml`` and end with :func:`print_environment`.

Parameters resolve, later wins: ``common.all`` < ``common.<profile>`` <
``chapters.<name>.all`` < ``chapters.<name>.<profile>`` < an explicit value (a notebook
parameter that is not ``None``, ``papermill -p``, or the runner's ``-p``).
"""
from __future__ import annotations

import ast
import datetime as _dt
import os
import re
import platform
import subprocess
import time
import warnings
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
TEACHING_TIMES_FILE = EXECUTED_DIR / "teaching_times.md"
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


def check_profile(profile: Any, profiles: dict) -> None:
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


def coerce(chapter: str, name: str, value: Any, default: Any) -> Any:
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


# Ranges of explicit values, by knob name (the name's last word): every number a value holds
# (a scalar, the items of a list, the values of a mapping) must be in range.
_RANGES = [
    (re.compile(r"(^|_)(density|densities|keeps)$"), lambda v: 0 < v <= 1,
     "densities in (0, 1]"),
    (re.compile(r"(^|_)sparsities$"), lambda v: 0 <= v < 1, "sparsities in [0, 1)"),
    (re.compile(r"(^|_)fraction$"), lambda v: 0 <= v <= 1, "a fraction in [0, 1]"),
    (re.compile(r"(^|_)(seeds|epochs|batch_size|batch|heads|layers|d_model|inputs|per_class|"
                r"repeats|depth|depths|width|widths|hidden|grid|cycles|threads|rounds|"
                r"subset|subsets|multipliers|lr)$"), lambda v: v > 0, "values > 0"),
]


def _numbers(value: Any) -> list:
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [value]
    if isinstance(value, (list, tuple)):
        return [n for item in value for n in _numbers(item)]
    if isinstance(value, dict):
        return [n for item in value.values() for n in _numbers(item)]
    return []


def check_value(chapter: str, name: str, value: Any) -> None:
    """Raise :class:`ParameterError` (one line) if an explicit ``value`` of knob ``name`` is out
    of range: an empty list, a density outside (0, 1], a count below 1, an empty
    ``results_dir``, an executor or device that does not exist."""
    def fail(allowed: str) -> None:
        raise ParameterError(
            f"parameter {name}={value!r} of chapter {chapter!r} is not allowed: {allowed}")

    if isinstance(value, (list, dict)) and not value:
        fail("a non-empty list" if isinstance(value, list) else "a non-empty mapping")
    for pattern, ok, allowed in _RANGES:
        if pattern.search(name) and not all(ok(n) for n in _numbers(value)):
            fail(allowed)
    if name == "results_dir" and isinstance(value, str) and not value.strip():
        fail("a directory path, or None for the default")
    if name == "device" and not re.fullmatch(r"auto|cpu|cuda(:\d+)?", str(value)):
        fail("'auto', 'cpu' or 'cuda[:N]'")
    if name == "executor" and value is not None:
        from ..runs.executors import make_executor

        try:
            make_executor(value)
        except ValueError as error:
            fail(str(error).split(": ", 1)[-1])


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
    check_profile(profile, profiles)
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
        values[name] = coerce(chapter, name, value, values[name])
        check_value(chapter, name, values[name])
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
    warnings.formatwarning = warning_for_readers
    return parameters_for(chapter, profile, profiles=profiles, **overrides)


def warning_for_readers(message, category, filename, lineno, line=None) -> str:
    """``warnings.formatwarning`` for a notebook's kernel: ``Category: message`` alone, without
    the file and line that raised it (a path of the build machine has no place on a page)."""
    return f"{category.__name__}: {message}\n"


# ------------------------------------------------------------------------------------------
# Environment printout
# ------------------------------------------------------------------------------------------
def package_version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # noqa: BLE001 - a missing package is reported, not raised
        return "not installed"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit(cwd: str | os.PathLike | None = None) -> str:
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


def device_description(device: str = "auto") -> str:
    import torch

    try:
        from ..train import resolve_device

        dev = resolve_device(device)
    except Exception:  # noqa: BLE001 - describe what was asked for, never fail here
        dev = torch.device("cuda" if device == "auto" and torch.cuda.is_available()
                           else ("cpu" if device == "auto" else device))
    if dev.type == "cuda":
        return f"{dev}: {torch.cuda.get_device_name(dev)} (CUDA {torch.version.cuda})"
    if dev.type == "cpu":
        return f"cpu: {cpu_model()}"
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
        info["wall time"] = f"{format_seconds(seconds)} (from resolving the parameters to here)"
    device = params.get("device", "auto") if params is not None else "auto"
    info["device"] = device_description(device)
    info["threads"] = (f"torch {torch.get_num_threads()} intra-op, "
                       f"{torch.get_num_interop_threads()} inter-op; {os.cpu_count()} CPUs")
    info["platform"] = f"{platform.platform()}, Python {platform.python_version()}"
    for package in ("torch", "numpy", "pandas", "matplotlib", "seaborn", "papermill"):
        info[package] = package_version(package)
    info["pruninglib"] = f"{package_version('pruninglib')} (git {git_commit()})"
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


def format_seconds(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


