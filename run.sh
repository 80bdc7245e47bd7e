#!/usr/bin/env bash
# The project's two entry points:
#   bash run.sh demo   install what is missing, then run the main demo
#   bash run.sh test   install what is missing, then run the whole test suite
# Installs Graphviz's `dot` with apt when missing (as root on Debian), creates
# .venv and installs the package with its extras; both steps are skipped when done.
set -euo pipefail
cd "$(dirname "$0")"

ensure_dot() {
    command -v dot >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing Graphviz (dot) with apt-get"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
    else
        echo "!! Graphviz's 'dot' program is missing; graph pictures will not render."
        echo "!! Install it: Debian/Ubuntu 'sudo apt-get install graphviz', Fedora 'sudo dnf install graphviz',"
        echo "!! macOS 'brew install graphviz', conda 'conda install -c conda-forge graphviz'."
    fi
}

ensure_venv() {
    local python=${PYTHON:-}
    if [ -z "$python" ]; then
        python=$(command -v python3.11 || command -v python3)
    fi
    local stamp=".venv/.installed-$(cat setup.cfg pyproject.toml | sha1sum | cut -c1-12)"
    [ -f "$stamp" ] && return 0
    if [ ! -x .venv/bin/python ]; then
        echo "== creating .venv with $python"
        if ! "$python" -m venv .venv; then
            echo "!! '$python -m venv' failed; on Debian install it with 'apt-get install python3-venv'."
            exit 1
        fi
    fi
    echo "== installing chainrule-lab with its extras into .venv (about a minute the first time)"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[dev,bench]"
    rm -f .venv/.installed-*
    touch "$stamp"
}

case "${1:-}" in
    demo)
        ensure_dot; ensure_venv
        shift
        exec .venv/bin/python -m nn.demo "$@"
        ;;
    test)
        ensure_dot; ensure_venv
        shift
        exec .venv/bin/python -m pytest "$@"
        ;;
    *)
        echo "usage: bash run.sh demo | bash run.sh test [pytest options]" >&2
        exit 2
        ;;
esac
