"""The README runs as written: every ```python block, in order, in one namespace, from a fresh folder; where a
plain ``` block follows a Python block directly, it is what that block prints."""

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)


def blocks() -> list[tuple[str, str, int]]:
    """(language, code, end offset) of every fenced block."""
    text = README.read_text(encoding="utf-8")
    return [(m.group(1), m.group(2), m.end()) for m in BLOCK.finditer(text)]


def test_the_readme_has_python_blocks():
    assert sum(lang == "python" for lang, _, _ in blocks()) >= 5


def test_every_python_block_runs_in_order_and_prints_what_the_readme_shows(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    monkeypatch.chdir(tmp_path)  # the examples write pictures into out/: not into the checkout
    monkeypatch.setenv("MPLBACKEND", "Agg")
    text = README.read_text(encoding="utf-8")
    found = blocks()
    namespace: dict = {"__name__": "readme"}
    for i, (lang, code, end) in enumerate(found):
        if lang != "python":
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"README.md python block {i}", "exec"), namespace)  # the README's own code
        following = found[i + 1] if i + 1 < len(found) else None
        if following and following[0] == "" and text[end:text.index("```", end)].strip() == "":
            shown = following[1].rstrip("\n")
            assert out.getvalue().rstrip("\n") == shown, f"block {i} prints something else than the README shows"
    assert os.getcwd() == str(tmp_path)


def test_every_python_block_runs_on_its_own(tmp_path, monkeypatch):
    """A reader may copy one block into a fresh notebook: each imports what it uses."""
    pytest.importorskip("graphviz")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for i, (lang, code, _) in enumerate(blocks()):
        if lang == "python":
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(code, f"README.md python block {i}", "exec"), {"__name__": "readme"})
