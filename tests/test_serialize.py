"""nn.save / nn.load (issue 6, item 4): bit-exact round trips on every registered engine, atomic writes
(interrupted in-process and killed in a subprocess), and clear errors for truncated, foreign and
mis-shaped files that never leave a model half loaded."""

from __future__ import annotations

import contextlib
import json
import os
import stat
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
    assert len(leftovers) == 1 and leftovers[0].startswith(".model.npz~") and leftovers[0].endswith(".tmp")
    stale = tmp_path / leftovers[0]
    assert 0 < stale.stat().st_size < len(before)  # the half-written archive went there
    assert same_bits(nn.load(path).state_dict(), old.state_dict())
    # Issue 15 item 14: the next save of the same target removes its stale temporary (unlocked: its writer died;
    # older than a few seconds: not one that a live writer has just created and not yet locked)
    other = tmp_path / "other.npz"
    nn.save(old, other)  # another target: leaves it alone
    assert stale.exists()
    long_ago = stale.stat().st_mtime - 3600
    os.utime(stale, (long_ago, long_ago))
    nn.save(old, other)
    assert stale.exists()
    nn.save(old, path)
    assert sorted(os.listdir(tmp_path)) == ["model.npz", "other.npz"]


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
    _assert_refused_and_untouched(pickled, r"not one written by nn.save .*\['payload'\]")
    for key in ("state/W[1]", "__spec__"):  # a pickle inside a file that otherwise looks like nn.save's
        nn.save(MLP(2, [3], 1, seed=3), pickled)
        _tampered(pickled, **{key: np.array([{"a": 1}], dtype=object)})
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
    (lambda p: nn.save("model", p), TypeError, "nn.save expects an nn.MLP or an nn.Sequential, got str"),
    (lambda p: nn.save(MLP(2, [2], 1), 3), TypeError, "path to be a str or os.PathLike, got int: 3"),
    (lambda p: nn.save(MLP(2, [2], 1), p / "missing" / "m.npz"), ValueError, "the folder .*missing.* does not exist"),
    (lambda p: nn.save(MLP(2, [2], 1), p), ValueError, "is a folder"),
    (lambda p: nn.load(p / "absent.npz"), ModelFileError, "no file at .*absent.npz"),
    (lambda p: nn.load(p), ModelFileError, "is a folder"),
    (lambda p: nn.load(None), TypeError, "path to be a str or os.PathLike, got NoneType"),
    (lambda p: nn.load(p / "m.npz", model="net"), TypeError,
     "model must be an nn.MLP, an nn.Sequential or None, got str"),
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


# -- crafted and special files (issue 15 items 9-15, issue 16 item 7) --------------------------------------------

def _npy_bytes(array: np.ndarray) -> bytes:
    import io
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _declare_size(path: Path, member: str, size: int) -> None:
    """Make the zip's central directory declare ``size`` uncompressed bytes for ``member`` (the data stays)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_length = int.from_bytes(data[at + 28:at + 30], "little")
        if data[at + 46:at + 46 + name_length] == name:
            data[at + 24:at + 28] = size.to_bytes(4, "little")
            path.write_bytes(bytes(data))
            return
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{member} not in {path}")


def test_an_extra_member_is_refused_without_being_decompressed(saved):
    """Item 9: nn.load used to decompress every member, also ones it never uses, and then load."""
    import tracemalloc
    import zipfile
    with zipfile.ZipFile(saved, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.npy", _npy_bytes(np.zeros(2**20)))  # 8 MiB of zeros, some 8 kB compressed
    assert saved.stat().st_size < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=r"holds entries nn.save never writes: 'zeros.npy' \(8,388,736 bytes\)"
                                                 r"; nothing of them was read"):
            nn.load(saved)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # far below the 8 MiB the member would take


@pytest.mark.parametrize("member, match", [
    ("state/W[1].npy", r"entry 'W\[1\]' declares 1,073,741,824 bytes, but its header describes 176 "
                       r"\(shape \(3, 2\), float64\)"),
    ("__spec__.npy", r"entry '__spec__' declares 1,073,741,824 bytes; nn.save writes at most 1,048,576 there"),
    ("__format__.npy", r"entry '__format__' declares 1,073,741,824 bytes; nn.save writes at most 4,096"),
])
def test_declared_sizes_are_checked_before_reading(saved, member, match):
    """Item 9: a member declaring 1 GiB is refused from its declared size (the test allocates nothing of it)."""
    _declare_size(saved, member, 2**30)
    _assert_refused_and_untouched(saved, match)


def test_a_header_claiming_a_huge_array_is_refused_before_allocating(saved):
    """numpy's own reader allocates the header's shape before reading: nn.load compares it with the size first."""
    import zipfile
    with np.load(saved) as archive:
        arrays = {k: archive[k] for k in archive.files}
    real = _npy_bytes(arrays["state/W[1]"])
    big = real.replace(b"'shape': (3, 2)", b"'shape': (9999999999, 2)")[: len(real)]  # the header's padding shrinks
    with zipfile.ZipFile(saved, "w") as archive:
        for key, value in arrays.items():
            archive.writestr(key + ".npy", big if key == "state/W[1]" else _npy_bytes(value))
    _assert_refused_and_untouched(saved, r"entry 'W\[1\]' declares 176 bytes, but its header describes "
                                         r"160,000,000,112 \(shape \(9999999999, 2\), float64\): a damaged or crafted")


@pytest.mark.parametrize("spec_text, match", [
    ("[" * 100_000 + "]" * 100_000, r"no readable '__spec__' entry \(nested too deep\)"),
    ('{"n_in": 1e400, "hidden": [3], "n_out": 1, "activations": [{"name": "relu"}, {"name": "identity"}], '
     '"bias": true, "init": "normal", "seed": 0, "engine": "value"}', r"does not describe an MLP .*OverflowError"),
    ('{"n_in": 2, "hidden": [3], "n_out": 1, "activations": [{"name": "gelu"}, {"name": "identity"}], '
     '"bias": true, "init": "normal", "seed": 0, "engine": "value"}',
     r"does not describe an MLP this nn can build \(unknown activation 'gelu' for layer 1; this nn knows "
     r"\['identity', 'leaky_relu', 'relu', 'sigmoid', 'softmax', 'tanh'\]\)"),
])
def test_a_crafted_spec_gives_a_model_file_error(saved, spec_text, match):
    """Item 10 (RecursionError, OverflowError) and issue 16 item 7 (unknown activation: KeyError before)."""
    _tampered(saved, __spec__=np.array(spec_text))
    with pytest.raises(ModelFileError, match=match) as caught:
        nn.load(saved)
    assert str(saved) in str(caught.value) and len(str(caught.value)) < 1000


def _finishes_within(seconds, call):
    import threading
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(_outcome(call)), daemon=True)
    thread.start()
    thread.join(seconds)
    return outcome


def _outcome(call):
    try:
        return call()
    except Exception as error:  # handed back to the test
        return error


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
def test_load_refuses_a_fifo_at_once(tmp_path):
    """Item 11: nn.load on a FIFO used to block forever (open waits for a writer)."""
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    try:
        outcome = _finishes_within(10, lambda: nn.load(fifo))
        assert outcome, "nn.load blocked on a FIFO"
        assert isinstance(outcome[0], ModelFileError)
        assert str(outcome[0]) == f"nn.load: {str(fifo)!r} is a FIFO (named pipe), not a regular file; expected a " \
                                  "file written by nn.save"
    finally:  # unblock a reader that is stuck in open()
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    if os.path.exists("/dev/null"):
        with pytest.raises(ModelFileError, match="is a character device, not a regular file"):
            nn.load("/dev/null")
    link = tmp_path / "link.npz"
    link.symlink_to(fifo)
    with pytest.raises(ModelFileError, match="is a FIFO"):
        nn.load(link)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
def test_save_refuses_what_is_not_a_regular_file(tmp_path):
    """Item 12: nn.save used to rename its file over a FIFO (or, as root, a device such as /dev/null)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=r"nn.save: '.*pipe' is a FIFO \(named pipe\), not a regular file; "
                                         r"expected a path to a regular file or to nothing yet"):
        nn.save(MLP(2, [2], 1), fifo)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    link = tmp_path / "to-pipe.npz"
    link.symlink_to(fifo)
    with pytest.raises(ValueError, match=r"to-pipe.npz' \(through the symlink to '.*pipe'\) is a FIFO"):
        nn.save(MLP(2, [2], 1), link)
    assert link.is_symlink() and stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["pipe", "to-pipe.npz"]  # no temporary file left either


def test_save_writes_through_a_symlink_to_its_target(tmp_path):
    """Item 12: the link used to be replaced by a file while its target kept the old weights."""
    (tmp_path / "models").mkdir()
    target = tmp_path / "models" / "real.npz"
    nn.save(MLP(2, [3], 1, seed=1), target)
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    new = MLP(2, [3], 1, seed=2)
    nn.save(new, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert same_bits(nn.load(target).state_dict(), new.state_dict())
    dangling = tmp_path / "next.npz"
    dangling.symlink_to(tmp_path / "models" / "not-yet.npz")
    nn.save(new, dangling)  # a link to nothing yet: the file appears at its target
    assert dangling.is_symlink() and same_bits(nn.load(tmp_path / "models" / "not-yet.npz").state_dict(),
                                               new.state_dict())


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_a_new_file_follows_the_umask_and_a_replaced_file_keeps_its_mode(tmp_path):
    """Item 13: saved files were always 0600 (tempfile.mkstemp), also when they replaced a 0644 file."""
    mask = os.umask(0o022)
    try:
        nn.save(MLP(2, [2], 1), tmp_path / "a.npz")
        assert stat.S_IMODE(os.stat(tmp_path / "a.npz").st_mode) == 0o644  # what open() gives under umask 022
        os.umask(0o077)
        nn.save(MLP(2, [2], 1), tmp_path / "b.npz")
        assert stat.S_IMODE(os.stat(tmp_path / "b.npz").st_mode) == 0o600
        os.chmod(tmp_path / "a.npz", 0o640)
        nn.save(MLP(2, [2], 1, seed=3), tmp_path / "a.npz")
        assert stat.S_IMODE(os.stat(tmp_path / "a.npz").st_mode) == 0o640
    finally:
        os.umask(mask)


@pytest.mark.parametrize("length", [200, 242, 255])
def test_a_long_file_name_saves(tmp_path, length):
    """Item 14: names of 242-255 characters failed with ENAMETOOLONG (the temporary name was longer)."""
    path = tmp_path / ("m" * (length - 4) + ".npz")
    assert len(path.name) == length
    model = MLP(2, [2], 1, seed=1)
    nn.save(model, path)
    nn.save(model, path)  # and over itself
    assert same_bits(nn.load(path).state_dict(), model.state_dict())
    assert os.listdir(tmp_path) == [path.name]


def test_a_temporary_being_written_is_not_taken_for_a_stale_one(tmp_path):
    """A concurrent save holds a lock on its temporary file: the other save leaves it alone."""
    import fcntl
    path = tmp_path / "m.npz"
    nn.save(MLP(2, [2], 1), path)
    busy = tmp_path / f"{ser._temporary_prefix(path)}0000abcd.tmp"
    busy.write_bytes(b"PK half written")
    long_ago = busy.stat().st_mtime - 3600
    os.utime(busy, (long_ago, long_ago))
    with open(busy, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        nn.save(MLP(2, [2], 1), path)
        assert busy.exists()
    nn.save(MLP(2, [2], 1), path)  # its writer is gone (unlocked) and it is old: removed
    assert os.listdir(tmp_path) == ["m.npz"]


@pytest.mark.parametrize("content, detail", [
    (b"PK", "it is only 2 bytes long; the smallest zip archive has 22"),
    (b"PK\x03\x04" + bytes(100), "BadZipFile"),
])
def test_a_file_that_starts_like_a_zip_is_called_what_it_is(tmp_path, content, detail):
    """Item 15: a 2-byte 'PK' download was reported as holding pickled arrays."""
    path = tmp_path / "download.npz"
    path.write_bytes(content)
    error = _assert_refused_and_untouched(path, "is not a complete zip archive, so not a numpy .npz archive")
    assert detail in str(error) and "truncated" in str(error) and "pickle" not in str(error)


# -- a Sequential (the reports' CNN) ----------------------------------------------------------------------

def awkward_cnn() -> nn.Sequential:
    """Every layer kind a saved Sequential may hold, with weights that expose a lossy round trip."""
    from nn.activations import LeakyReLU as Leaky
    model = nn.Sequential(nn.Conv2d(1, 3, (3, 2), stride=(1, 2), padding=1, seed=1), nn.ReLU(),
                          nn.MaxPool2d(2, stride=1), nn.Conv2d(3, 2, 1, bias=False, init="normal", seed=2),
                          Leaky(0.3), nn.Flatten(), nn.Dropout(0.4, seed=3),
                          nn.Linear(2 * 5 * 2, 4, activation=Leaky(0.1), seed=4), nn.Linear(4, 3, bias=False))
    state = model.state_dict()
    specials = [-0.0, 5e-324, 1e300, -1e-310, np.nextafter(1.0, 2.0), 1 / 3]
    state["0.weight"].flat[: len(specials)] = specials
    model.load_state_dict(state)
    return model


def test_a_cnn_round_trip_is_bit_exact_and_computes_the_same_function(tmp_path):
    model = awkward_cnn()
    nn.save(model, tmp_path / "cnn.npz")
    loaded = nn.load(tmp_path / "cnn.npz")
    assert type(loaded) is nn.Sequential and len(loaded) == len(model)
    assert same_bits(weights_of(loaded), weights_of(model))
    assert [repr(a) for a in loaded] == [repr(a) for a in model]  # sizes, strides, paddings, p, activations
    x = np.random.default_rng(0).normal(size=(5, 1, 6, 5))
    model.eval(), loaded.eval()
    np.testing.assert_array_equal(loaded(x).data, model(x).data)
    # into a fresh model of the same architecture: the weights land there
    other = nn.Sequential(*[layer for layer in awkward_cnn()])
    other.load_state_dict({k: np.zeros_like(v) for k, v in other.state_dict().items()})
    assert nn.load(tmp_path / "cnn.npz", model=other) is other
    assert same_bits(weights_of(other), weights_of(model))


def test_the_digits_cnn_trained_saved_and_loaded_predicts_as_before(tmp_path):
    from nn.cnn import digits_cnn
    model = digits_cnn(seed=3)
    x = np.random.default_rng(1).uniform(size=(4, 1, 8, 8))
    loss = nn.CrossEntropyLoss()(model(x), np.array([0, 3, 5, 9]))  # one training step: weights not as drawn
    loss.backward()
    nn.Adam(model.parameters(), lr=0.01).step()
    nn.save(model, tmp_path / "digits.npz")
    loaded = nn.load(tmp_path / "digits.npz", engine="tensor")
    model.eval(), loaded.eval()
    np.testing.assert_array_equal(loaded(x).data, model(x).data)
    spec = json.loads(str(np.load(tmp_path / "digits.npz")["__spec__"]))
    assert spec["kind"] == "Sequential" and [entry["layer"] for entry in spec["layers"]] == [
        "Conv2d", "activation", "MaxPool2d", "Conv2d", "activation", "MaxPool2d", "Flatten", "Dropout", "Linear"]


def test_saving_a_sequential_with_a_layer_it_cannot_rebuild_is_refused_before_writing(tmp_path):
    class Twice(nn.Module):
        def forward(self, x):
            return x * 2

    with pytest.raises(ValueError, match=r"nn.save can store a Sequential of Conv2d, MaxPool2d, Flatten, Dropout, "
                                         r"Linear layers and the built-in activations; its layer 1 is none of these: "
                                         r"Twice"):
        nn.save(nn.Sequential(nn.Flatten(), Twice()), tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"its layer 0 is none of these: Sequential"):  # nested: flatten it first
        nn.save(nn.Sequential(nn.Sequential(nn.Flatten())), tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists() and list(tmp_path.iterdir()) == []


def test_a_sequential_using_a_layer_twice_names_stores_and_loads_it_once(tmp_path):
    shared = nn.Linear(2, 2, activation="tanh", seed=5)
    model = nn.Sequential(shared, nn.Linear(2, 2, seed=6), shared)
    # named by its first place, as PyTorch does; its weights stored once
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert sorted(model.state_dict()) == ["0.bias", "0.weight", "1.bias", "1.weight"]
    nn.save(model, tmp_path / "tied.npz")
    spec = json.loads(str(np.load(tmp_path / "tied.npz")["__spec__"]))
    assert spec["layers"][2] == {"layer": "same", "as": 0}
    loaded = nn.load(tmp_path / "tied.npz")
    assert loaded[2] is loaded[0] and loaded[1] is not loaded[0]
    assert same_bits(weights_of(loaded), weights_of(model))
    x = np.random.default_rng(0).normal(size=(4, 2))
    W0, b0, W1, b1 = (model.state_dict()[k] for k in ("0.weight", "0.bias", "1.weight", "1.bias"))
    by_hand = np.tanh(((np.tanh(x @ W0.T + b0)) @ W1.T + b1) @ W0.T + b0)  # the shared layer at places 0 and 2
    np.testing.assert_allclose(loaded(x).data, by_hand, rtol=1e-14, atol=0)
    # a reference to no earlier layer is refused, naming it
    for bad in (2, 5, -1, "0", None):
        _with_spec(tmp_path / "tied.npz", lambda s, bad=bad: s["layers"][1].update({"layer": "same", "as": bad}))
        with pytest.raises(ModelFileError, match=r"layer 1 is the same as layer .*expected the place of an earlier "
                                                 r"layer \(0 to 0\)"):
            nn.load(tmp_path / "tied.npz")
    _with_spec(tmp_path / "tied.npz", lambda s: s["layers"].__setitem__(0, {"layer": "same", "as": 0}))
    with pytest.raises(ModelFileError, match=r"layer 0 is the same as layer 0, expected .*\(none: it is the first\)"):
        nn.load(tmp_path / "tied.npz")


def _with_spec(path: Path, change) -> Path:
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    spec = json.loads(str(arrays["__spec__"]))
    change(spec)
    arrays["__spec__"] = np.array(json.dumps(spec))
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("change, match", [
    (lambda s: s["layers"][0].update(out_channels=3000), r"layer 0 \(Conv2d\): the spec needs 0.weight of shape "
                                                          r"\(3000, 1, 3, 2\), the file holds \(3, 1, 3, 2\)"),
    (lambda s: s["layers"][3].update(bias=True), r"layer 3 \(Conv2d\): the spec needs 3.bias of shape \(2,\)"),
    (lambda s: s["layers"][7].update(n_in=10**9), r"layer 7 \(Linear\): the spec needs 7.weight of shape"),
    (lambda s: s["layers"][2].update(layer="AvgPool2d"), r"layer 2 is 'AvgPool2d'; this nn builds \['Conv2d'"),
    (lambda s: s["layers"][6].update(p=2.0), r"layer 6 \(Dropout\): Dropout p must be a probability"),
    (lambda s: s["layers"][4]["activation"].update(name="gelu"), r"layer 4 \(activation\): unknown activation "
                                                                 r"'gelu'"),
    (lambda s: s["layers"][5].update(surprise=1), r"layer 5 \(Flatten\): .*surprise"),
    (lambda s: s.update(layers=[]), r"layers must be a list of 1 to 10,000 layer specs"),
    (lambda s: s.update(kind="Transformer"), r"describes a 'Transformer'; this nn builds an 'MLP' or a 'Sequential'"),
])
def test_a_damaged_cnn_spec_is_refused_naming_the_layer_before_anything_is_built(tmp_path, change, match):
    nn.save(awkward_cnn(), tmp_path / "cnn.npz")
    with pytest.raises(ModelFileError, match=match):
        nn.load(_with_spec(tmp_path / "cnn.npz", change))


def test_a_cnn_file_refuses_another_engine_and_a_model_that_does_not_fit(tmp_path):
    nn.save(awkward_cnn(), tmp_path / "cnn.npz")
    with pytest.raises(ModelFileError, match=r"holds a Sequential, which runs on the tensor engine only; got "
                                             r"engine='value'"):
        nn.load(tmp_path / "cnn.npz", engine="value")
    small = nn.Sequential(nn.Conv2d(1, 3, (3, 2)), nn.Flatten())
    before = weights_of(small)
    with pytest.raises(ModelFileError, match=r"holds the weights of a Sequential of 9 layers .*do not fit the model "
                                             r"you gave \(a Sequential of 2 layers\): .*7.weight: file \(4, 20\), "
                                             r"model missing.*nothing was loaded"):
        nn.load(tmp_path / "cnn.npz", model=small)
    assert same_bits(weights_of(small), before)
    # an MLP file into a Sequential, and a Sequential file into an MLP: named, nothing loaded
    nn.save(awkward_model("tensor"), tmp_path / "mlp.npz")
    with pytest.raises(ModelFileError, match=r"holds the weights of a 2-3-2-1 MLP .*W\[1\]: file \(3, 2\), model "
                                             r"missing"):
        nn.load(tmp_path / "mlp.npz", model=small)
    with pytest.raises(ModelFileError, match=r"holds the weights of a Sequential of 9 layers .*2-3-2-1"):
        nn.load(tmp_path / "cnn.npz", model=awkward_model("tensor"))


def test_a_loaded_mlp_keeps_the_seed_it_was_built_with(tmp_path):
    model = MLP(2, [3, 4], 2, seed=3, engine="tensor")
    nn.save(model, tmp_path / "m.npz")
    loaded = nn.load(tmp_path / "m.npz")
    assert loaded.spec()["seed"] == 3
    nn.save(loaded, tmp_path / "again.npz")
    assert json.loads(str(np.load(tmp_path / "again.npz")["__spec__"]))["seed"] == 3
    unseeded = MLP(2, [3], 1, seed=np.random.default_rng(0), engine="tensor")  # a Generator is not kept
    nn.save(unseeded, tmp_path / "g.npz")
    assert nn.load(tmp_path / "g.npz").spec()["seed"] is None
