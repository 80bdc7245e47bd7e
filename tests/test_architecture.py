"""ARCHITECTURE.md stays true to the tree: it names every module file, and the layers import as it says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAP = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")


def module_files(package: str) -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def imports(path: Path) -> set[str]:
    """Top-level package names that ``path`` imports, anywhere in the file (lazy imports included)."""
    found = re.findall(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", path.read_text(encoding="utf-8"), re.MULTILINE)
    return set(found)


def test_every_module_file_is_named_in_the_architecture_map():
    files = module_files("autograd") + module_files("nn") + module_files("bench")
    missing = [f for f in files if f"`{f}`" not in MAP]
    assert missing == [], f"ARCHITECTURE.md does not name {missing}: add each with what it holds"


def test_the_engine_never_imports_nn_or_matplotlib():
    offenders = {f: sorted(imports(ROOT / f) & {"nn", "matplotlib"}) for f in module_files("autograd")}
    assert {f: names for f, names in offenders.items() if names} == {}


def test_graphviz_is_imported_by_the_drawing_modules_alone():
    users = {f for f in module_files("autograd") + module_files("nn") if "graphviz" in imports(ROOT / f)}
    assert users <= {"autograd/draw.py", "autograd/animate.py"}, users


def test_import_nn_loads_neither_matplotlib_nor_a_test_tool():
    code = ("import sys, nn, autograd; loaded = {'matplotlib', 'hypothesis', 'pytest', 'torch', 'micrograd'}"
            " & set(sys.modules); print(sorted(loaded)); sys.exit(1 if loaded else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_matplotlib_is_imported_by_the_plotting_module_alone():
    users = [f for f in module_files("autograd") + module_files("nn") if "matplotlib" in imports(ROOT / f)]
    assert users == ["nn/cnn.py", "nn/experiments/figures.py", "nn/plot.py"]  # the pictures, nothing else


def test_the_numpy_oracle_imports_nothing_of_the_engine():
    assert "autograd" not in imports(ROOT / "nn" / "numpy_reference.py")
