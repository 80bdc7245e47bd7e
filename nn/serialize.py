"""Saving and loading models: ``nn.save(model, path)`` and ``nn.load(path)``.

A saved model is a numpy ``.npz`` archive (a zip of ``.npy`` arrays, read with
``allow_pickle=False``, so loading a file never runs code from it) holding

- ``__format__``: the text ``chainrule-lab/nn.save`` and ``__version__``: 1;
- ``__spec__``: the MLP's constructor arguments as JSON (sizes, activations,
  bias, init, seed, engine);
- ``state/W[1]``, ``state/b[1]``, ...: the ``state_dict()`` arrays, float64, bit for bit.

Writing is atomic: the archive is written to a temporary file in the same
folder, flushed to disk (``fsync``) and then renamed over ``path``
(``os.replace``), so a crash or Ctrl-C mid-write leaves the previous file as it
was. Loading checks everything (archive, format, spec, every key and shape)
before touching a model, so a failed load never leaves a model half loaded.
Anything wrong with the file raises ``ModelFileError`` (a ``ValueError``) naming
the file and what is wrong.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from .activations import ACTIVATIONS, Activation
from .layers import ENGINES, MLP

FORMAT = "chainrule-lab/nn.save"
VERSION = 1
_STATE = "state/"


class ModelFileError(ValueError):
    """A file could not be loaded as a model saved by ``nn.save``, or does not fit the model it is loaded into."""


class ModelFileNotFoundError(ModelFileError, FileNotFoundError):
    """``nn.load`` was given a path where there is no file (both a ``ModelFileError`` and a ``FileNotFoundError``)."""


def _as_path(path: Any, what: str) -> Path:
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what} expects path to be a str or os.PathLike, got {type(path).__name__}: {path!r}")
    if not str(path) or "\0" in str(path) or Path(path).name in ("", ".", ".."):
        raise ValueError(f"{what} expects a file path, got {str(path)!r}")
    return Path(path)


def _activation_spec(a: Activation) -> dict[str, Any]:
    if ACTIVATIONS.get(a.name) is not type(a):
        raise ValueError(f"nn.save can store the built-in activations {sorted(ACTIVATIONS)}, got {a!r} "
                         f"(a {type(a).__name__})")
    return {"name": a.name, **vars(a)}


def model_spec(model: MLP) -> dict[str, Any]:
    """What ``nn.save`` stores to rebuild ``model``: its constructor arguments as JSON-ready values."""
    if not isinstance(model, MLP):
        raise TypeError(f"model_spec expects an nn.MLP model, got {type(model).__name__}: {model!r:.40}")
    spec = model.spec()
    seed = spec["seed"]
    return {
        "n_in": spec["n_in"], "hidden": list(spec["hidden"]), "n_out": spec["n_out"],
        "activations": [_activation_spec(a) for a in spec["activations"]],
        "bias": spec["bias"], "init": spec["init"],
        "seed": int(seed) if isinstance(seed, (int, np.integer)) else None,  # a Generator's state is not kept
        "engine": model.engine,
    }


def _write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """``write`` into a temporary file beside ``path``, fsync it, then rename it over ``path``."""
    folder = path.parent
    fd, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp_name, path)
    except BaseException:  # also KeyboardInterrupt: never leave the temporary file behind
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    # Make the rename itself durable (POSIX; some systems cannot open a folder, and that is fine).
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def save(model: MLP, path: str | os.PathLike) -> None:
    """Write ``model`` (an ``nn.MLP`` on any engine) to ``path`` as an ``.npz`` archive: its spec and
    ``state_dict()``. Atomic: ``path`` holds either the old file or the complete new one, never a part."""
    if not isinstance(model, MLP):
        raise TypeError(f"nn.save expects an nn.MLP, got {type(model).__name__}")
    path = _as_path(path, "nn.save")
    if not path.parent.is_dir():
        raise ValueError(f"nn.save: the folder {str(path.parent)!r} of {str(path)!r} does not exist")
    if path.is_dir():
        raise ValueError(f"nn.save: {str(path)!r} is a folder; expected a file path such as 'model.npz'")
    arrays: dict[str, np.ndarray] = {
        "__format__": np.array(FORMAT), "__version__": np.array(VERSION),
        "__spec__": np.array(json.dumps(model_spec(model))),
    }
    arrays.update({_STATE + name: np.asarray(a, dtype=np.float64) for name, a in model.state_dict().items()})
    _write_atomically(path, lambda f: np.savez(f, **arrays))


def _read_archive(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The spec and the state dict stored in ``path``, every array read and checked (ModelFileError otherwise)."""
    if not path.exists():
        raise ModelFileNotFoundError(f"nn.load: no file at path {str(path)!r}; expected a file written by nn.save")
    if path.is_dir():
        raise ModelFileError(f"nn.load: {str(path)!r} is a folder, not a model file")
    with open(path, "rb") as f:
        head = f.read(8)
    if not head.startswith(b"PK"):  # every zip (so every .npz) starts with PK; don't let numpy guess further
        raise ModelFileError(f"nn.load: {str(path)!r} is not a numpy .npz archive, so not a model saved by "
                             f"nn.save (it starts with {head!r}; an .npz archive starts with b'PK')")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}  # reads (and CRC-checks) every member
    except ModelFileError:
        raise
    except ValueError as error:
        if "allow_pickle" not in str(error):
            raise ModelFileError(f"nn.load: {str(path)!r} is not a complete numpy .npz archive ({error})") from None
        raise ModelFileError(f"nn.load: {str(path)!r} holds pickled (object) arrays, which nn.load never reads "
                             "(loading a pickle can run code from the file); nn.save writes none") from None
    except Exception as error:  # zipfile, numpy and the OS raise many kinds for a damaged file
        raise ModelFileError(f"nn.load: {str(path)!r} is not a complete numpy .npz archive, so not a model saved "
                             f"by nn.save (truncated, damaged or another kind of file: "
                             f"{type(error).__name__}: {error})") from None
    fmt = arrays.get("__format__")
    if fmt is None or fmt.shape != () or str(fmt) != FORMAT:
        raise ModelFileError(f"nn.load: {str(path)!r} is a .npz archive but not one written by nn.save "
                             f"(no '__format__' = {FORMAT!r} entry; it holds {sorted(arrays)[:10]})")
    version = arrays.get("__version__")
    if version is None or version.shape != () or version.dtype.kind not in "iu" or int(version) != VERSION:
        shown = version.tolist() if version is not None else "(none)"
        raise ModelFileError(f"nn.load: {str(path)!r} has format version {shown!r}; this nn reads version "
                             f"{VERSION}")
    try:
        spec = json.loads(str(arrays["__spec__"]))
        if not isinstance(spec, dict):
            raise ValueError(f"expected a JSON object, got {type(spec).__name__}")
    except (KeyError, ValueError) as error:
        raise ModelFileError(f"nn.load: {str(path)!r} has no readable '__spec__' entry ({error})") from None
    state = {key[len(_STATE):]: a for key, a in arrays.items() if key.startswith(_STATE)}
    for name, a in state.items():
        if a.dtype != np.float64:
            raise ModelFileError(f"nn.load: {str(path)!r} entry {name!r} has dtype {a.dtype}, expected float64")
    return spec, state


def _build(spec: dict[str, Any], state: dict[str, np.ndarray], engine: str | None, path: Path) -> MLP:
    try:
        sizes = [int(spec["n_in"]), *(int(h) for h in spec["hidden"]), int(spec["n_out"])]
        # Check the spec against the stored arrays before building (a damaged spec could ask for any size).
        for l in range(1, len(sizes)):
            stored = state.get(f"W[{l}]")
            if stored is None or stored.shape != (sizes[l], sizes[l - 1]):
                raise ValueError(f"the spec's sizes {sizes} need W[{l}] of shape {(sizes[l], sizes[l - 1])}, the "
                                 f"file holds {None if stored is None else tuple(stored.shape)}")
        activations = []
        for a in spec["activations"]:
            params = {k: v for k, v in a.items() if k != "name"}
            activations.append(ACTIVATIONS[a["name"]](**params))
        return MLP(spec["n_in"], spec["hidden"], spec["n_out"], activations=activations, bias=spec["bias"],
                   init=spec["init"], seed=0, engine=spec["engine"] if engine is None else engine)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ModelFileError(f"nn.load: the spec stored in {str(path)!r} does not describe an MLP this nn can "
                             f"build ({type(error).__name__}: {error}); spec: {spec!r}") from None


def _shapes(state: dict[str, np.ndarray]) -> str:
    return ", ".join(f"{k} {tuple(v.shape)}" for k, v in state.items())


def load(path: str | os.PathLike, model: MLP | None = None, engine: str | None = None) -> MLP:
    """The model saved at ``path`` by ``nn.save``: rebuilt from its spec on its engine (or on ``engine``),
    holding the saved weights bit for bit. Given ``model``, load the weights into it instead (its
    shapes must match the file's) and return it. Raises ``ModelFileError`` naming the file and the
    problem; the model is changed only when everything fits."""
    path = _as_path(path, "nn.load")
    if model is not None and not isinstance(model, MLP):
        raise TypeError(f"nn.load: model must be an nn.MLP or None, got {type(model).__name__}")
    if engine is not None and (not isinstance(engine, str) or engine not in ENGINES):
        raise ValueError(f"nn.load: engine must be one of {sorted(ENGINES)} or None, got {engine!r}")
    spec, state = _read_archive(path)
    target = _build(spec, state, engine, path) if model is None else model
    expected = {k: v.shape for k, v in target.state_dict().items()}
    if {k: v.shape for k, v in state.items()} != expected:
        arch = "-".join(str(n) for n in [spec.get("n_in"), *spec.get("hidden", []), spec.get("n_out")])
        where = "the model you gave" if model is not None else "the MLP its spec describes"
        mine = "-".join(str(n) for n in target.sizes)
        diffs = [f"{k}: file {tuple(state[k].shape) if k in state else 'missing'}, model "
                 f"{tuple(expected[k]) if k in expected else 'missing'}"
                 for k in sorted(set(state) | set(expected)) if state.get(k, np.empty(0)).shape != expected.get(k)]
        raise ModelFileError(f"nn.load: {str(path)!r} holds the weights of a {arch} MLP ({_shapes(state)}), which do "
                             f"not fit {where} ({mine}): {'; '.join(diffs)}; nothing was loaded")
    target.load_state_dict(state)
    return target
