"""What the install scripts promise: runtime and test dependencies kept apart, a foreign ``autograd`` caught.

``bash run.sh check-install`` runs on a throwaway virtual environment (``CHAINRULE_VENV``) whose
site-packages the tests fill by hand: the repository on a ``.pth`` line (as an editable install
does), or a fake HIPS ``autograd`` distribution in front of it (as ``pip install autograd`` leaves it).
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REPAIR = "bin/pip uninstall -y autograd && {venv}/bin/pip install --force-reinstall -e ."

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="run.sh needs bash")


def make_venv(path: Path) -> Path:
    """A virtual environment without pip (a fraction of a second); returns its site-packages folder."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    purelib = subprocess.run([str(path / "bin" / "python"), "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    assert purelib, sysconfig.get_paths()
    return Path(purelib)


def check_install(venv: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "run.sh"), "check-install"], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "CHAINRULE_VENV": str(venv)}, timeout=60)


def add_this_checkout(site_packages: Path) -> None:
    (site_packages / "chainrule_lab.pth").write_text(f"{ROOT}\n")


def add_hips_autograd(site_packages: Path) -> None:
    (site_packages / "autograd").mkdir()
    (site_packages / "autograd" / "__init__.py").write_text("# HIPS autograd's top-level package\n")
    info = site_packages / "autograd-1.9.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: autograd\nVersion: 1.9.1\n")
    (info / "RECORD").write_text("")


def test_a_venv_importing_this_checkout_passes(tmp_path):
    site_packages = make_venv(tmp_path / "venv")
    add_this_checkout(site_packages)
    result = check_install(tmp_path / "venv")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_hips_autograd_over_ours_is_named_with_the_repair_command(tmp_path):
    venv = tmp_path / "venv"
    site_packages = make_venv(venv)
    add_this_checkout(site_packages)
    add_hips_autograd(site_packages)  # site-packages comes before .pth lines: it shadows ours, as pip leaves it
    result = check_install(venv)
    assert result.returncode == 1
    out = result.stdout
    assert "the distribution 'autograd' 1.9.1 (HIPS autograd, from PyPI) is installed" in out
    assert f"'import autograd' loads {site_packages.resolve() / 'autograd' / '__init__.py'}" in out
    assert f"expected {ROOT / 'autograd' / '__init__.py'}" in out
    assert "'import nn'" not in out  # nn still comes from this checkout
    assert f"{venv}/" + REPAIR.format(venv=venv) in out


def test_a_venv_without_our_package_is_named(tmp_path):
    make_venv(tmp_path / "venv")
    result = check_install(tmp_path / "venv")
    assert result.returncode == 1
    assert "'import autograd' loads nothing" in result.stdout
    assert "'import nn' loads nothing" in result.stdout


def test_a_missing_venv_says_which_command_creates_it(tmp_path):
    result = check_install(tmp_path / "nowhere")
    assert result.returncode == 1
    assert "no virtual environment at" in result.stdout and "bash run.sh demo" in result.stdout


def extras() -> tuple[list[str], dict[str, list[str]]]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")

    def names(text: str) -> list[str]:
        return [re.split(r"[<>=!~\[ ]", line.strip(), maxsplit=1)[0].lower()
                for line in text.splitlines() if line.strip()]

    runtime = names(config["options"]["install_requires"])
    return runtime, {name: names(text) for name, text in config["options.extras_require"].items()}


def test_the_runtime_install_has_no_test_or_benchmark_tool():
    runtime, extra = extras()
    assert runtime == ["numpy", "graphviz", "matplotlib", "tqdm", "joblib"]
    assert {"hypothesis", "pytest", "torch", "micrograd"}.isdisjoint(runtime)
    assert set(extra["test"]) <= set(extra["dev"])  # the whole suite needs what the quick subset needs
    assert "hypothesis" in extra["test"] and "nox" in extra["dev"]


def test_torch_is_pinned_wherever_it_is_named():
    _, extra = extras()
    assert extra["bench"] == ["micrograd", "torch"]
    assert extra["torch"] == ["torch"]  # the bridge's own extra (nn.to_torch)
    requirements = re.findall(r"^\s+(torch\S*)", (ROOT / "setup.cfg").read_text(), re.MULTILINE)
    assert requirements and set(requirements) == {"torch==2.13.0"}  # never a bare torch: it pulls gigabytes
    for script in ("run.sh", "noxfile.py"):  # they install extras, never a package by name
        installs = [line for line in (ROOT / script).read_text().splitlines() if "pip install" in line
                    or "session.install(" in line]
        assert installs and not any("torch" in line or "micrograd" in line for line in installs), installs


def test_no_runtime_module_imports_a_test_tool():
    pattern = re.compile(r"^\s*(import|from)\s+(hypothesis|pytest|torch|micrograd)\b", re.MULTILINE)
    offenders = [str(path.relative_to(ROOT)) for package in ("autograd", "nn")
                 for path in sorted((ROOT / package).rglob("*.py")) if pattern.search(path.read_text())]
    # the bridge to PyTorch, which imports torch only when called, and the torch modules it makes, which it
    # imports only then (inside a function): no module imports them at its top
    assert offenders == ["nn/_torch_modules.py", "nn/torch_bridge.py"]
    bridge = (ROOT / "nn" / "torch_bridge.py").read_text()
    assert not re.search(r"^(import|from)\s+torch\b", bridge, re.MULTILINE)
    top_level = re.compile(r"^(import|from)\s+\S*_torch_modules\b|^from \. import .*_torch_modules", re.MULTILINE)
    assert not [str(path) for package in ("autograd", "nn") for path in (ROOT / package).rglob("*.py")
                if top_level.search(path.read_text())]
