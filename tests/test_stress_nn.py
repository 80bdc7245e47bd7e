"""Trust under stress for training and saved models (issue 15 item 28, for items 6, 7, 9-15, 25 and 26): every
built-in optimizer made to update in place, interrupted at every parameter of a step, crafted archives and
special files. Each case is counted; the total is printed at the end of the module, beside test_stress's count.

- In place: each optimizer is wrapped so that it writes its update into the parameter's own array (the PyTorch
  habit). Divergence must still restore the weights of the last finite loss (checked with a numpy forward), and
  a KeyboardInterrupt at any parameter of a step must leave the weights and the optimizer's state exactly as an
  uninterrupted run left them one step earlier.
- Crafted archives: truncations, members nn.save never writes, declared sizes that lie, headers that claim huge
  arrays, wrong dtypes, pickles, duplicate members, specs nested too deep or holding 1e400, and random byte
  flips (hypothesis). nn.load gives a ModelFileError naming the file, reads little memory (tracemalloc), and
  never changes the model it was given.
- Special files: FIFOs, devices, sockets, folders, symlinks (also dangling) given to nn.load and nn.save.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import io
import json
import os
import socket
import stat
import threading
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nn
from nn import data as datasets
from nn import optim
from nn.serialize import ModelFileError

COUNTS: collections.Counter = collections.Counter()
OPTIMIZERS = {"sgd": dict(lr=1e6), "sgd momentum": dict(lr=1e6, momentum=0.9), "adam": dict(lr=1e300),
              "rmsprop": dict(lr=1e300), "adagrad": dict(lr=1e300)}


def in_place(kind: str, params, **hyper) -> optim.Optimizer:
    """The built-in optimizer ``kind`` changed to write each update into the parameter's own array."""
    base = optim.OPTIMIZERS[kind.split()[0]]

    class InPlace(base):
        def _update(self, p, g, state):
            own = p.data
            super()._update(p, g, state)
            own[...] = p.data  # the new values, into the old array
            p.data = own

    return InPlace(params, **hyper)


def mse_by_hand(state: dict, X: np.ndarray, y: np.ndarray) -> float:
    """The 2-8-1 ReLU/identity net's MSE from its state_dict, in numpy."""
    with np.errstate(over="ignore", invalid="ignore"):
        hidden = np.maximum(X @ state["W[1]"].T + state["b[1]"], 0)
        out = (hidden @ state["W[2]"].T + state["b[2]"])[:, 0]
        return float(np.mean((out - y) ** 2))


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_in_place_optimizers_restore_the_last_finite_weights(kind):
    X, y = datasets.generate_linear(n=10, seed=0)
    model = nn.MLP(2, [8], 1, activations=["relu", "identity"], seed=0, engine="tensor")
    opt = in_place(kind, model.parameters(), **OPTIMIZERS[kind])
    with np.errstate(over="ignore", invalid="ignore"):  # numpy warns on the overflow the huge lr provokes
        history = nn.fit(model, X, y, optimizer=opt, epochs=300, verbose=False)
    COUNTS["in-place optimizer"] += 1
    assert history.stopped is not None, kind
    state = model.state_dict()
    assert all(np.isfinite(v).all() for v in state.values())
    assert mse_by_hand(state, X, y) == pytest.approx(history.loss[-1], rel=1e-12)


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("kind", ["sgd momentum", "adam", "rmsprop", "adagrad"])
def test_an_interrupt_at_any_parameter_leaves_a_step_boundary(kind):
    X, y = datasets.generate_XOR_easy()
    hyper = {"sgd momentum": dict(lr=0.5, momentum=0.9)}.get(kind, dict(lr=0.05))

    def run(steps, interrupt_at=None):
        model = nn.MLP(2, [4, 3], 1, activations=["relu", "sigmoid", "sigmoid"], seed=1, engine="tensor")
        opt = in_place(kind, model.parameters(), **hyper)
        if interrupt_at is not None:
            calls = [0]
            update = opt._update

            def interrupting(p, g, state):
                calls[0] += 1
                if calls[0] == interrupt_at:
                    raise KeyboardInterrupt
                update(p, g, state)
            opt._update = interrupting
        try:
            nn.fit(model, X, y, optimizer=opt, epochs=steps, verbose=False)
        except KeyboardInterrupt:
            pass
        return model.state_dict(), copy.deepcopy(opt.state)

    n_params = 6
    two_steps = run(2)
    for param in range(1, n_params + 1):  # interrupted while updating parameter `param` of step 3
        state, opt_state = run(3, interrupt_at=2 * n_params + param)
        COUNTS["interrupted step"] += 1
        for key in state:
            assert np.array_equal(state[key], two_steps[0][key]), (kind, param, key)
        for got, want in zip(opt_state, two_steps[1]):
            assert got.keys() == want.keys()
            for key in got:
                assert np.array_equal(got[key], want[key]), (kind, param, key)


# -- crafted archives --------------------------------------------------------------------------------------------

def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def good_members() -> dict[str, bytes]:
    buffer = io.BytesIO()
    model = nn.MLP(2, [3], 1, seed=3)
    arrays = {"__format__": np.array(nn.serialize.FORMAT), "__version__": np.array(1),
              "__spec__": np.array(json.dumps(nn.serialize.model_spec(model)))}
    arrays.update({"state/" + k: v for k, v in model.state_dict().items()})
    np.savez(buffer, **arrays)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def archive(members: dict[str, bytes] | list[tuple[str, bytes]], compress: bool = False) -> bytes:
    buffer = io.BytesIO()
    items = members.items() if isinstance(members, dict) else members
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED if compress
                                                     else zipfile.ZIP_STORED) as out:
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": wanted here
        for name, content in items:
            out.writestr(name, content)
    return buffer.getvalue()


def with_member(name: str, content: bytes | None) -> dict[str, bytes]:
    members = good_members()
    if content is None:
        members.pop(name)
    else:
        members[name] = content
    return members


def declared(data: bytes, member: str, size: int) -> bytes:
    """``data`` with the central directory declaring ``size`` uncompressed bytes for ``member``."""
    data = bytearray(data)
    at = data.find(b"PK\x01\x02")
    while at != -1:
        length = int.from_bytes(data[at + 28:at + 30], "little")
        if data[at + 46:at + 46 + length] == member.encode():
            data[at + 24:at + 28] = size.to_bytes(4, "little")
            return bytes(data)
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(member)


def spec_text(**changes) -> bytes:
    spec = json.loads(str(np.load(io.BytesIO(good_members()["__spec__.npy"]))))
    spec.update(changes)
    return npy(np.array(json.dumps(spec)))


GOOD = archive(good_members())
W1 = good_members()["state/W[1].npy"]
CRAFTED = {
    "empty": b"",
    "PK": b"PK",
    "PK + zeros": b"PK\x03\x04" + bytes(60),
    "first half": GOOD[: len(GOOD) // 2],
    "all but the last byte": GOOD[:-1],
    "extra member, stored": archive(with_member("payload.npy", npy(np.zeros(2**17)))),
    "extra member, 8 MiB of zeros deflated": archive(with_member("zeros.npy", npy(np.zeros(2**20))), compress=True),
    "extra member declaring 1 GiB": declared(archive(with_member("x.bin", b"tiny")), "x.bin", 2**30),
    "W[1] declaring 1 GiB": declared(GOOD, "state/W[1].npy", 2**30),
    "W[1] declaring 0 bytes": declared(GOOD, "state/W[1].npy", 0),
    "spec declaring 1 GiB": declared(GOOD, "__spec__.npy", 2**30),
    "W[1] header claims 10^10 rows": archive(with_member("state/W[1].npy", W1.replace(
        b"'shape': (3, 2)", b"'shape': (9999999999, 2)")[: len(W1)])),
    "W[1] header claims a 1-D array": archive(with_member("state/W[1].npy", npy(np.zeros(6)))),
    "W[1] float32": archive(with_member("state/W[1].npy", npy(np.zeros((3, 2), np.float32)))),
    "W[1] big-endian": archive(with_member("state/W[1].npy", npy(np.zeros((3, 2), ">f8")))),
    "W[1] int64": archive(with_member("state/W[1].npy", npy(np.zeros((3, 2), np.int64)))),
    "W[1] pickled": archive(with_member("state/W[1].npy", npy(np.array([{"a": 1}], dtype=object)))),
    "W[1] not an npy": archive(with_member("state/W[1].npy", b"\x93NUMPY\x09\x00garbage")),
    "W[1] missing": archive(with_member("state/W[1].npy", None)),
    "W[9] extra": archive(with_member("state/W[9].npy", npy(np.zeros((3, 2))))),
    "duplicate W[1]": archive(list(good_members().items()) + [("state/W[1].npy", W1)]),
    "format missing": archive(with_member("__format__.npy", None)),
    "format is a number": archive(with_member("__format__.npy", npy(np.array(3.0)))),
    "version 2": archive(with_member("__version__.npy", npy(np.array(2)))),
    "version is text": archive(with_member("__version__.npy", npy(np.array("1")))),
    "spec nested 10^5 deep": archive(with_member("__spec__.npy", npy(np.array("[" * 10**5 + "]" * 10**5)))),
    "spec not JSON": archive(with_member("__spec__.npy", npy(np.array("{n_in: 2")))),
    "spec a list of numbers": archive(with_member("__spec__.npy", npy(np.arange(3.0)))),
    "spec n_in 1e400": archive(with_member("__spec__.npy", spec_text(n_in=float("inf")).replace(b"Infinity",
                                                                                                  b"1e400"))),
    "spec hidden [-3]": archive(with_member("__spec__.npy", spec_text(hidden=[-3]))),
    "spec hidden 'abc'": archive(with_member("__spec__.npy", spec_text(hidden="abc"))),
    "spec hidden 10^12": archive(with_member("__spec__.npy", spec_text(hidden=[10**12]))),
    "spec unknown activation": archive(with_member("__spec__.npy", spec_text(activations=[{"name": "gelu"},
                                                                                          {"name": "sigmoid"}]))),
    "spec activation with junk parameters": archive(with_member("__spec__.npy", spec_text(
        activations=[{"name": "leaky_relu", "slope": "steep"}, {"name": "sigmoid"}]))),
    "spec activations a string": archive(with_member("__spec__.npy", spec_text(activations="relu"))),
}
MODEL_ALSO_REFUSES = {  # the weights must not load into a 2-3-1 model you give either
    "empty", "PK", "PK + zeros", "first half", "all but the last byte", "extra member, stored",
    "extra member, 8 MiB of zeros deflated", "extra member declaring 1 GiB", "W[1] declaring 1 GiB",
    "W[1] declaring 0 bytes", "spec declaring 1 GiB", "W[1] header claims 10^10 rows", "W[1] header claims a 1-D array",
    "W[1] float32", "W[1] big-endian", "W[1] int64", "W[1] pickled", "W[1] not an npy", "W[1] missing", "W[9] extra",
    "duplicate W[1]", "format missing", "format is a number", "version 2", "version is text",
    "spec nested 10^5 deep", "spec not JSON", "spec a list of numbers",
}


def refused(path: Path, match: str | None = None, memory: int = 2 << 20) -> ModelFileError:
    """nn.load(path) must raise ModelFileError naming ``path``, with a tracemalloc peak under ``memory``."""
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=match) as caught:
            nn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(caught.value) and len(str(caught.value)) < 2000
    assert peak < memory, f"{path.name}: {peak} bytes"
    return caught.value


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_archives_are_refused_cheaply_and_leave_a_model_alone(name, tmp_path):
    path = tmp_path / "crafted.npz"
    path.write_bytes(CRAFTED[name])
    refused(path)
    COUNTS["crafted archive"] += 1
    if name in MODEL_ALSO_REFUSES:
        model = nn.MLP(2, [3], 1, seed=4)
        before = {k: v.copy() for k, v in model.state_dict().items()}
        with pytest.raises(ModelFileError):
            nn.load(path, model=model)
        assert all(np.array_equal(v, before[k]) for k, v in model.state_dict().items())
        COUNTS["crafted archive"] += 1
    else:  # only the spec is bad: the weights still load into a model you build
        assert nn.load(path, model=nn.MLP(2, [3], 1)).sizes == [2, 3, 1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(1, 255)), min_size=1, max_size=4))
def test_random_byte_flips_load_or_give_a_model_file_error(flips, tmp_path):
    data = bytearray(GOOD)
    for at, mask in flips:
        data[at] ^= mask
    path = tmp_path / "flipped.npz"
    path.write_bytes(bytes(data))
    COUNTS["flipped archive"] += 1
    try:
        model = nn.load(path)
    except ModelFileError as error:
        assert str(path) in str(error)
    else:  # a flip where nothing checks it (a name's padding, a timestamp): still the model nn.save wrote
        assert model.sizes == [2, 3, 1]


# -- special files -----------------------------------------------------------------------------------------------

def finishes(call, seconds: float = 10.0):
    outcome: list = []

    def target():
        try:
            outcome.append(call())
        except Exception as error:  # handed back to the test
            outcome.append(error)
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, "blocked"
    return outcome[0]


def special_files(tmp_path: Path) -> dict[str, Path]:
    files = {"folder": tmp_path / "folder"}
    files["folder"].mkdir()
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
        files["fifo"] = tmp_path / "fifo"
    if hasattr(socket, "AF_UNIX"):
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(tmp_path / "sock"))
        sock.close()  # the socket file stays
        files["socket"] = tmp_path / "sock"
    for target in list(files):
        link = tmp_path / f"link-to-{target}"
        link.symlink_to(files[target])
        files[f"symlink to {target}"] = link
    return files


@pytest.mark.skipif(os.name != "posix", reason="POSIX special files")
def test_special_files_are_refused_by_load_and_save_without_blocking(tmp_path):
    files = special_files(tmp_path)
    files["character device"] = Path("/dev/zero")  # read forever if nn.load ever read it (load only)
    try:
        for name, path in files.items():
            error = finishes(lambda p=path: nn.load(p))
            assert isinstance(error, ModelFileError), (name, error)
            assert str(path) in str(error) and ("not a regular file" in str(error) or "folder" in str(error)), error
            COUNTS["special file"] += 1
            if name == "character device":
                continue  # never point nn.save at a device, not even in a test of its refusal
            before = os.lstat(path)
            error = finishes(lambda p=path: nn.save(nn.MLP(2, [2], 1), p))
            assert isinstance(error, ValueError) and str(path) in str(error), (name, error)
            after = os.lstat(path)
            assert (stat.S_IFMT(after.st_mode), after.st_ino) == (stat.S_IFMT(before.st_mode), before.st_ino), name
            COUNTS["special file"] += 1
    finally:
        if "fifo" in files:  # unblock a reader stuck in open(), should the refusal ever regress
            with contextlib.suppress(OSError):
                os.close(os.open(files["fifo"], os.O_WRONLY | os.O_NONBLOCK))
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


def test_symlinks_are_written_through_and_dangling_ones_create_their_target(tmp_path):
    model = nn.MLP(2, [3], 1, seed=7)
    real = tmp_path / "real.npz"
    chain = tmp_path / "a.npz"
    (tmp_path / "b.npz").symlink_to(real)
    chain.symlink_to(tmp_path / "b.npz")  # a -> b -> real (real does not exist yet)
    nn.save(model, chain)
    nn.save(model, chain)
    assert chain.is_symlink() and (tmp_path / "b.npz").is_symlink() and real.is_file()
    assert np.array_equal(nn.load(real).state_dict()["W[1]"], model.state_dict()["W[1]"])
    (tmp_path / "gone.npz").symlink_to(tmp_path / "missing-folder" / "m.npz")
    with pytest.raises(ValueError, match="does not exist"):
        nn.save(model, tmp_path / "gone.npz")
    with pytest.raises(ModelFileError, match="no file at path"):
        nn.load(tmp_path / "gone.npz")
    COUNTS["special file"] += 4


@pytest.fixture(scope="module", autouse=True)
def report_case_count(request):
    yield
    total = sum(COUNTS.values())
    if not total:
        return
    parts = ", ".join(f"{n} {kind}" for kind, n in sorted(COUNTS.items()))
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\ntest_stress_nn: {total} training and saved-model fault cases tried ({parts})")


def test_a_complex_y_is_refused_without_a_complex_warning():
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    model = nn.MLP(2, [2], 1, activations=["sigmoid", "sigmoid"], engine="tensor")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's ComplexWarning would be an error here
        with pytest.raises(TypeError, match="complex"):
            nn.fit(model, X, np.array([1 + 2j, 0]), epochs=1, verbose=False)
