#!/usr/bin/env bash
# The project's entry points:
#   bash run.sh demo                  install the runtime dependencies only, then run the main demo
#   bash run.sh test                  install what the tests need, run the whole suite on .venv's Python
#                                     (3.11), then the quick subset on 3.10, 3.12 and 3.13 (noxfile.py)
#   bash run.sh test [pytest options] the same install, then only pytest on .venv's Python with those options
#   bash run.sh check-install         only check that .venv imports this checkout's autograd and nn
# Installs Graphviz's `dot` (and, for the tests, Chromium) with apt when missing (as root on Debian),
# creates .venv and installs the package into it; each install is skipped once done (stamp files in
# .venv, one for the runtime install and one for the test install, so the demo never pulls in torch).
set -euo pipefail
cd "$(dirname "$0")"

VENV=${CHAINRULE_VENV:-.venv}   # another virtual environment, e.g. for the install tests
APT_UPDATED=

apt_install() {  # apt_install PACKAGE: as root with apt-get, else return 1
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
    echo "== installing $1 with apt-get"
    if [ -z "$APT_UPDATED" ]; then
        apt-get update -qq
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}

ensure_dot() {
    command -v dot >/dev/null 2>&1 && return 0
    apt_install graphviz && return 0
    echo "!! Graphviz's 'dot' program is missing; graph pictures will not render."
    echo "!! Install it: Debian/Ubuntu 'sudo apt-get install graphviz', Fedora 'sudo dnf install graphviz',"
    echo "!! macOS 'brew install graphviz', conda 'conda install -c conda-forge graphviz'."
}

ensure_chromium() {  # only the headless-browser tests use it; they skip without it
    command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 && return 0
    apt_install chromium && return 0
    echo "!! Chromium is missing; the headless-browser tests will be skipped (Debian: 'apt-get install chromium')."
}

install_stamp() {  # install_stamp runtime|test: the file that says this install is done for this setup.cfg
    echo "$VENV/.installed-$1-$(cat setup.cfg pyproject.toml | sha1sum | cut -c1-12)"
}

ensure_venv() {  # ensure_venv runtime|test
    local what=$1 spec
    case "$what" in
        runtime) spec="." ;;
        test) spec=".[dev,bench,cluster]" ;;  # bench: torch==2.13.0 and micrograd, the baselines; cluster: dask
        notebook) spec=".[notebook]" ;;  # JupyterLab
    esac
    [ -f "$(install_stamp "$what")" ] && return 0
    if [ ! -x "$VENV/bin/python" ]; then
        local python=${PYTHON:-}
        [ -n "$python" ] || python=$(command -v python3.11 || command -v python3)
        echo "== creating $VENV with $python"
        if ! "$python" -m venv "$VENV"; then
            echo "!! '$python -m venv' failed; on Debian install it with 'apt-get install python3-venv'."
            exit 1
        fi
    fi
    if [ "$what" = runtime ]; then
        echo "== installing chainrule-lab and its runtime dependencies into $VENV"
    elif [ "$what" = notebook ]; then
        echo "== installing chainrule-lab with JupyterLab into $VENV"
    else
        echo "== installing chainrule-lab with its dev and bench extras into $VENV (a few minutes the first time)"
    fi
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e "$spec"
    rm -f "$VENV/.installed-$what-"*
    touch "$(install_stamp "$what")"
    if [ "$what" != runtime ]; then  # the test and notebook installs include the runtime one
        rm -f "$VENV/.installed-runtime-"*
        touch "$(install_stamp runtime)"
    fi
}

# `pip install autograd` (HIPS autograd, on PyPI) installs a top-level package of the same name over ours,
# silently. Check from outside the checkout (cd /) so that the current directory cannot hide it.
check_install() {
    local repo=$PWD python
    if [ ! -x "$VENV/bin/python" ]; then
        echo "!! no virtual environment at $VENV yet: 'bash run.sh demo' or 'bash run.sh test' creates it."
        return 1
    fi
    python=$(cd "$VENV" && pwd)/bin/python
    if ! (cd / && "$python" - "$repo" <<'PY'
import importlib.metadata
import importlib.util
import sys
from pathlib import Path

repo = Path(sys.argv[1]).resolve()
problems = []
try:
    foreign = importlib.metadata.distribution("autograd")
except importlib.metadata.PackageNotFoundError:
    pass
else:
    problems.append(f"the distribution 'autograd' {foreign.version} (HIPS autograd, from PyPI) is installed; "
                    "it uses the import name 'autograd' too")
for name in ("autograd", "nn"):
    spec = importlib.util.find_spec(name)
    origin = spec.origin if spec is not None else None
    if origin is None or not Path(origin).resolve().is_relative_to(repo):
        problems.append(f"'import {name}' loads {origin or 'nothing'}; expected {repo / name / '__init__.py'}")
for problem in problems:
    print("!! " + problem)
sys.exit(1 if problems else 0)
PY
    ); then
        echo "!! $VENV does not import this checkout's autograd and nn. Repair it with:"
        echo "!!     $VENV/bin/pip uninstall -y autograd && $VENV/bin/pip install --force-reinstall -e ."
        return 1
    fi
}

case "${1:-}" in
    demo)
        shift
        ensure_dot; ensure_venv runtime; check_install
        exec "$VENV/bin/python" -m nn.demo "$@"
        ;;
    test)
        shift
        ensure_dot; ensure_chromium; ensure_venv test; check_install
        # pytest-xdist runs one worker per core; BLAS threads on top of them oversubscribe the cores (the
        # CNN's small products ran 5-10x slower with OpenBLAS's threads on two busy cores).
        export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
        if [ $# -gt 0 ]; then
            exec "$VENV/bin/python" -m pytest "$@"
        fi
        echo "== the whole suite on $("$VENV/bin/python" -c 'import platform; print("Python", platform.python_version())')"
        "$VENV/bin/python" -m pytest
        echo "== the quick subset on Python 3.10, 3.12 and 3.13 (noxfile.py, session 'quick')"
        exec "$VENV/bin/python" -m nox --session quick
        ;;
    notebook)
        shift
        ensure_dot; ensure_venv notebook; check_install
        exec "$VENV/bin/python" -m jupyter lab notebooks "$@"
        ;;
    check-install)
        check_install
        ;;
    *)
        echo "usage: bash run.sh demo | bash run.sh test [pytest options] | bash run.sh notebook | bash run.sh check-install" >&2
        exit 2
        ;;
esac
