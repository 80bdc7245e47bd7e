"""Test sessions on every supported Python (setup.cfg: python_requires >= 3.10).

    .venv/bin/python -m nox --session quick        # the quick subset on 3.10, 3.12 and 3.13 (run.sh test runs it)
    .venv/bin/python -m nox --session full         # the whole suite on 3.11 in a venv of its own (torch included)
    .venv/bin/python -m nox --session quick-3.12   # one version

``bash run.sh test`` runs the whole suite in ``.venv`` (Python 3.11, which already has everything) and
then ``quick``, so CI covers all four versions without a second torch install. Each session's virtual
environment lives in ``.nox/`` and is reused; its install is redone only when setup.cfg or
pyproject.toml change (a stamp file, as in run.sh). Interpreters are found on PATH as ``python3.X``
or, failing that, in pyenv's versions folder. A missing interpreter skips its session, or fails it
when ``CI`` is set (nox's default).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import nox

ROOT = Path(__file__).parent
FULL_PYTHON = "3.11"
QUICK_PYTHONS = ["3.10", "3.12", "3.13"]
# The engines, their checks and the networks: no notebooks, no torch, no benchmark runs.
QUICK_TESTS = [
    "tests/test_value.py",
    "tests/test_tensor.py",
    "tests/test_check.py",
    "tests/test_tensor_check.py",
    "tests/test_gradcheck_self.py",
    "tests/test_anomaly.py",
    "tests/test_hand_table.py",
    "tests/test_explain.py",
    "tests/test_draw.py",
    "tests/test_nn_module.py",
    "tests/test_nn_losses.py",
    "tests/test_nn_optim.py",
    "tests/test_nn_init.py",
    "tests/test_nn_data.py",
    "tests/test_numpy_reference.py",
    "tests/test_two_engines.py",
    "tests/test_serialize.py",
    "tests/test_install.py",
]

nox.options.sessions = ["quick"]
nox.options.reuse_venv = "yes"
nox.options.default_venv_backend = "venv"


def _find_pyenv_pythons() -> None:
    """Let nox find pyenv's interpreters as ``python3.X``. pyenv's shims are on PATH, but a shim runs
    only the versions that ``pyenv global``/``local`` selected; so link each ``python3.X`` of pyenv's
    versions folder into ``.nox/pythons`` and put that folder first on PATH (only those names, so that
    ``python``, ``python3`` and ``pip`` stay what they were)."""
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    links = ROOT / ".nox" / "pythons"
    for version in [FULL_PYTHON, *QUICK_PYTHONS]:
        found = sorted(versions.glob(f"{version}.*/bin/python{version}"))
        if not found:
            continue
        links.mkdir(parents=True, exist_ok=True)
        link = links / f"python{version}"
        if link.is_symlink() and link.resolve() != found[-1].resolve():
            link.unlink()
        if not link.is_symlink():
            link.symlink_to(found[-1])
    if links.is_dir():
        os.environ["PATH"] = os.pathsep.join([str(links), os.environ.get("PATH", "")])


_find_pyenv_pythons()


def _install_once(session: nox.Session, spec: str) -> None:
    """``pip install -e spec`` unless this venv already has it for the current setup.cfg and pyproject.toml."""
    digest = hashlib.sha1(b"".join((ROOT / name).read_bytes() for name in ("setup.cfg", "pyproject.toml")))
    stamp = Path(session.virtualenv.location) / f".installed-{spec}-{digest.hexdigest()[:12]}"
    if stamp.exists():
        return
    session.install("--quiet", "--upgrade", "pip")
    session.install("--quiet", "-e", spec)
    for old in stamp.parent.glob(".installed-*"):
        old.unlink()
    stamp.touch()


@nox.session(python=QUICK_PYTHONS)
def quick(session: nox.Session) -> None:
    """The core tests (engines, checks, networks) without the slow ones, on the other supported Pythons."""
    _install_once(session, ".[test]")
    session.run("python", "-m", "pytest", "-q", "-m", "not slow", *QUICK_TESTS, *session.posargs)


@nox.session(python=FULL_PYTHON)
def full(session: nox.Session) -> None:
    """The whole suite, notebooks and torch comparisons included."""
    _install_once(session, ".[dev,bench]")
    session.run("python", "-m", "pytest", *session.posargs)
