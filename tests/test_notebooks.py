"""Every notebook in notebooks/ runs top to bottom without an error."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    # shutdown_kernel="immediate": the run is over once the last cell has; a graceful shutdown waits ~2 s more.
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3", shutdown_kernel="immediate",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError naming the failing cell
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    left = sorted(p.name for p in tmp_path.iterdir())
    assert not left, f"{path.name} leaves files where it runs (use a temporary folder): {left}"
    size = len(nbformat.writes(notebook).encode("utf-8"))
    assert size < 1_000_000, f"{path.name} is {size:,} bytes once executed; keep it under 1 MB"
