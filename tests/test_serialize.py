"""nn.save / nn.load (issue 6, item 4): bit-exact round trips on every registered engine, atomic writes
(interrupted in-process and killed in a subprocess), and clear errors for truncated, foreign and
mis-shaped files that never leave a model half loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import nn
from nn import MLP, ModelFileError
from nn import serialize as ser
from nn.activations import LeakyReLU
from nn.layers import ENGINES

ENGINE_NAMES = sorted(ENGINES)  # grows by itself when an engine is registered


def awkward_model(engine: str) -> MLP:
    """A 2-3-2-1 model whose weights include values that expose any lossy round trip."""
    model = MLP(2, [3, 2], 1, activations=[LeakyReLU(0.2), "tanh", "sigmoid"], init="xavier_uniform", seed=5,
                engine=engine)
    state = model.state_dict()
    specials = [-0.0, 5e-324, 1e300, -1e-310, np.nextafter(1.0, 2.0), 1 / 3, np.pi * 1e-200]
    state["W[1]"].flat[: len(specials)] = specials
    model.load_state_dict(state)
    return model


def same_bits(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k].dtype == b[k].dtype and a[k].shape == b[k].shape
                                        and a[k].tobytes() == b[k].tobytes() for k in a)


def weights_of(model: MLP) -> dict:
    return {k: v.copy() for k, v in model.state_dict().items()}


# -- round trips -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_round_trip_is_bit_exact_and_keeps_the_spec(engine, tmp_path):
    model = awkward_model(engine)
    path = tmp_path / "model.npz"
    nn.save(model, path)
    loaded = nn.load(path)
    assert type(loaded) is MLP and loaded.engine == engine and loaded is not model
    assert same_bits(loaded.state_dict(), model.state_dict())
    assert loaded.sizes == [2, 3, 2, 1] and loaded.activations == model.activations
    assert loaded.activations[0].slope == 0.2 and loaded.spec()["init"] == "xavier_uniform"
    X = np.array([[0.5, -1.5], [2.0, 0.25]])
    assert np.array_equal(nn.predict(loaded, X), nn.predict(model, X))


@pytest.mark.parametrize("engine", ENGINE_NAMES)
@pytest.mark.parametrize("target", ENGINE_NAMES)
def test_a_saved_model_loads_on_any_engine_and_into_an_existing_model(engine, target, tmp_path):
    model = awkward_model(engine)
    path = tmp_path / "m.npz"
    nn.save(model, str(path))  # a str path works as a Path does
    assert same_bits(nn.load(path, engine=target).state_dict(), model.state_dict())
    other = MLP(2, [3, 2], 1, activations=[LeakyReLU(0.2), "tanh", "sigmoid"], seed=99, engine=target)
    assert nn.load(path, model=other) is other
    assert same_bits(other.state_dict(), model.state_dict())


def test_the_file_is_a_plain_npz_without_pickles(tmp_path):
    path = tmp_path / "m.npz"
    nn.save(MLP(2, [2], 1, bias=False), path)
    with np.load(path, allow_pickle=False) as archive:  # readable without pickle, by numpy alone
        assert sorted(archive.files) == ["__format__", "__spec__", "__version__", "state/W[1]", "state/W[2]"]
        spec = json.loads(str(archive["__spec__"]))
    assert spec == {"n_in": 2, "hidden": [2], "n_out": 1, "bias": False, "init": "normal", "seed": 0,
                    "engine": "value", "activations": [{"name": "relu"}, {"name": "identity"}]}


def test_training_after_loading_continues_exactly_as_without_saving(tmp_path):
    X, y = nn.data.generate_XOR_easy()
    a = MLP(2, [4], 1, activations=["tanh", "sigmoid"], seed=1)
    nn.fit(a, X, y, lr=0.5, epochs=5, print_fn=lambda s: None)
    nn.save(a, tmp_path / "a.npz")
    b = nn.load(tmp_path / "a.npz")
    for model in (a, b):
        nn.fit(model, X, y, lr=0.5, epochs=5, print_fn=lambda s: None)
    assert same_bits(a.state_dict(), b.state_dict())


# -- atomic writes -----------------------------------------------------------------------------------------

def _crash_after_partial_bytes(monkeypatch, error):
    """Make numpy's savez write half an archive, then fail with ``error``."""
    real_savez = np.savez

    def half_then_fail(file, **arrays):
        import io
        buffer = io.BytesIO()
        real_savez(buffer, **arrays)
        file.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        raise error

    monkeypatch.setattr(np, "savez", half_then_fail)


@pytest.mark.parametrize("error", [KeyboardInterrupt(), OSError(28, "No space left on device")])
def test_an_interrupted_save_leaves_the_old_file_intact(error, tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    old = MLP(2, [3], 1, seed=1)
    nn.save(old, path)
    before = path.read_bytes()
    _crash_after_partial_bytes(monkeypatch, error)
    with pytest.raises(type(error)):
        nn.save(MLP(2, [3], 1, seed=2), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]  # the temporary file was removed
    monkeypatch.undo()
    assert same_bits(nn.load(path).state_dict(), old.state_dict())


def test_a_process_killed_mid_write_leaves_the_old_file_intact(tmp_path):
    path = tmp_path / "model.npz"
    old = MLP(2, [16, 16], 1, seed=1)
    nn.save(old, path)
    before = path.read_bytes()
    child = textwrap.dedent(f"""
        import io, os, numpy as np, nn
        real = np.savez
        def half_then_die(file, **arrays):
            buffer = io.BytesIO()
            real(buffer, **arrays)
            file.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
            file.flush()
            os._exit(9)  # no cleanup, no finally: as a kill -9 or a power cut
        np.savez = half_then_die
        nn.save(nn.MLP(2, [16, 16], 1, seed=2), {str(path)!r})
    """)
    done = subprocess.run([sys.executable, "-c", child], cwd=Path(__file__).parent.parent, timeout=60)
    assert done.returncode == 9
    assert path.read_bytes() == before
    leftovers = [name for name in os.listdir(tmp_path) if name != "model.npz"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".model.npz.") and leftovers[0].endswith(".tmp")
    assert 0 < (tmp_path / leftovers[0]).stat().st_size < len(before)  # the half-written archive went there
    assert same_bits(nn.load(path).state_dict(), old.state_dict())


def test_save_writes_beside_the_target_fsyncs_then_renames(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(("fsync", fd)), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append(("replace", a, b)), real_replace(a, b))[1])
    path = tmp_path / "m.npz"
    nn.save(MLP(2, [2], 1), path)
    kinds = [c[0] for c in calls]
    assert kinds.index("fsync") < kinds.index("replace")
    _, temp, target = calls[kinds.index("replace")]
    assert Path(temp).parent == tmp_path and Path(target) == path  # same folder: the rename is atomic


# -- bad files ---------------------------------------------------------------------------------------------------

@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "good.npz"
    nn.save(MLP(2, [3], 1, seed=3), path)
    return path


def _assert_refused_and_untouched(path, match):
    model = MLP(2, [3], 1, seed=4)
    before = weights_of(model)
    with pytest.raises(ModelFileError, match=match) as caught:
        nn.load(path, model=model)
    assert str(path) in str(caught.value)
    assert same_bits(model.state_dict(), before)  # never half loaded
    with pytest.raises(ModelFileError, match=match):
        nn.load(path)
    return caught.value


@pytest.mark.parametrize("keep", [0, 1, 30, 0.5, 0.9, -1])
def test_a_truncated_file_is_refused_naming_the_file(saved, keep):
    data = saved.read_bytes()
    n = keep if isinstance(keep, int) and keep >= 0 else (len(data) - 1 if keep == -1 else int(len(data) * keep))
    saved.write_bytes(data[:n])
    _assert_refused_and_untouched(saved, "not .*npz archive|not a complete numpy .npz archive")


@pytest.mark.parametrize("content", [
    b"\x89PNG\r\n\x1a\n" + bytes(200),
    bytes(np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8)),
    b"W[1] = [[1, 2], [3, 4]]\n",
])
def test_a_foreign_file_is_refused_naming_the_file(tmp_path, content):
    path = tmp_path / "foreign.npz"
    path.write_bytes(content)
    error = _assert_refused_and_untouched(path, "is not a numpy .npz archive")
    assert repr(content[:8]) in str(error)


def test_an_npz_from_elsewhere_or_with_pickled_data_is_refused(tmp_path):
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.ones(3))
    _assert_refused_and_untouched(other, r"not one written by nn.save .*\['weights'\]")
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, payload=np.array([{"a": 1}], dtype=object))
    _assert_refused_and_untouched(pickled, "holds pickled .* which nn.load never reads")
    single = tmp_path / "single.npy"
    np.save(single, np.ones(3))
    _assert_refused_and_untouched(single, "not a numpy .npz archive")


def _tampered(saved: Path, **changes) -> Path:
    with np.load(saved) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays.update(changes)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    np.savez(saved, **arrays)
    return saved


@pytest.mark.parametrize("changes, match", [
    ({"__version__": np.array(2)}, "format version 2"),
    ({"__spec__": np.array("{not json")}, "no readable '__spec__'"),
    ({"__spec__": None}, "no readable '__spec__'"),
    ({"state/W[1]": np.ones((3, 2), dtype=np.float32)}, "'W\\[1\\]' has dtype float32"),
    ({"state/b[1]": None}, "b\\[1\\]: file missing, model \\(3,\\)"),
])
def test_a_damaged_file_is_refused(saved, changes, match):
    _assert_refused_and_untouched(_tampered(saved, **changes), match)


@pytest.mark.parametrize("spec", [{"n_in": 2}, {"n_in": 2, "hidden": [3], "n_out": 1, "activations": [{"name": "x"}]},
                                  {"n_in": 2, "hidden": [10**9], "n_out": 1}, [1, 2]])
def test_a_spec_that_builds_no_mlp_is_refused_when_the_file_must_build_one(saved, spec):
    _tampered(saved, __spec__=np.array(json.dumps(spec)))
    with pytest.raises(ModelFileError, match=f"{saved.name}.*(does not describe an MLP|no readable)"):
        nn.load(saved)
    if isinstance(spec, dict):  # the weights themselves are fine: they load into a model you build
        assert nn.load(saved, model=MLP(2, [3], 1)).sizes == [2, 3, 1]


def test_loading_into_a_model_of_another_shape_names_the_mismatch(saved):
    model = MLP(3, [3], 1, seed=4)  # 3 features where the file has 2
    before = weights_of(model)
    with pytest.raises(ModelFileError) as caught:
        nn.load(saved, model=model)
    message = str(caught.value)
    assert str(saved) in message and "holds the weights of a 2-3-1 MLP" in message and "(3-3-1)" in message
    assert "W[1]: file (3, 2), model (3, 3)" in message and "nothing was loaded" in message
    assert same_bits(model.state_dict(), before)


@pytest.mark.parametrize("call, error, match", [
    (lambda p: nn.save("model", p), TypeError, "nn.save expects an nn.MLP, got str"),
    (lambda p: nn.save(MLP(2, [2], 1), 3), TypeError, "path to be a str or os.PathLike, got int: 3"),
    (lambda p: nn.save(MLP(2, [2], 1), p / "missing" / "m.npz"), ValueError, "the folder .*missing.* does not exist"),
    (lambda p: nn.save(MLP(2, [2], 1), p), ValueError, "is a folder"),
    (lambda p: nn.load(p / "absent.npz"), ModelFileError, "no file at .*absent.npz"),
    (lambda p: nn.load(p), ModelFileError, "is a folder"),
    (lambda p: nn.load(None), TypeError, "path to be a str or os.PathLike, got NoneType"),
    (lambda p: nn.load(p / "m.npz", model="net"), TypeError, "model must be an nn.MLP or None, got str"),
    (lambda p: nn.load(p / "m.npz", engine="gpu"), ValueError, "engine must be one of .* got 'gpu'"),
])
def test_bad_arguments(tmp_path, call, error, match):
    nn.save(MLP(2, [2], 1), tmp_path / "m.npz")
    with pytest.raises(error, match=match):
        call(tmp_path)


def test_a_missing_file_is_also_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "nothing.npz")
    assert issubclass(ser.ModelFileNotFoundError, ModelFileError) and issubclass(ModelFileError, ValueError)
