"""Saving and loading models: ``nn.save(model, path)`` and ``nn.load(path)``.

A saved model is a numpy ``.npz`` archive (a zip of ``.npy`` arrays; ``nn.load`` reads
their headers and raw bytes itself and refuses object arrays, so loading a file never
runs code from it) holding

- ``__format__``: the text ``chainrule-lab/nn.save`` and ``__version__``: 1;
- ``__spec__``: the MLP's constructor arguments as JSON (sizes, activations,
  bias, init, seed, engine), or for a ``Sequential`` (a CNN such as ``nn.cnn.digits_cnn()``)
  ``"kind": "Sequential"`` and each layer's constructor arguments in order (a layer used again,
  shared weights, as ``{"layer": "same", "as": <its first place>}``);
- ``state/W[1]``, ``state/b[1]``, ... (an MLP) or ``state/0.weight``, ``state/0.bias``, ... (a Sequential):
  the ``state_dict()`` arrays, float64, bit for bit.

Writing is atomic: the archive is written to a temporary file in the same
folder (a short name, locked while written, removed by the next save of the same
target if a killed writer left it), flushed to disk (``fsync``) and then renamed
over ``path`` (``os.replace``), so a crash or Ctrl-C mid-write leaves the previous
file as it was. Loading reads a regular file only, and only the members nn.save
writes, each after checking its declared size; it checks everything (archive,
format, spec, every key and shape) before touching a model, so a failed load
never leaves a model half loaded and a crafted file costs no more memory than
the model it claims to hold.
Anything wrong with the file raises ``ModelFileError`` (a ``ValueError``) naming
the file and what is wrong.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import secrets
import stat
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; stale temporaries are then left alone
    fcntl = None  # type: ignore[assignment]

from .activations import ACTIVATIONS, Activation
from .conv import Conv2d, Dropout, Flatten, MaxPool2d, Sequential
from .layers import ENGINES, MLP, Linear

#: What nn.save stores and nn.load builds.
Model = MLP | Sequential

FORMAT = "chainrule-lab/nn.save"
VERSION = 1
_STATE = "state/"
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # opening a FIFO must not wait for a writer
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


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


def _layer_spec(layer: Any, position: int) -> dict[str, Any]:
    """A Sequential layer's constructor arguments, with ``"layer"`` naming its class."""
    kind = type(layer)
    if isinstance(layer, Activation):
        return {"layer": "activation", "activation": _activation_spec(layer)}
    if kind is Conv2d:
        return {"layer": "Conv2d", "in_channels": layer.in_channels, "out_channels": layer.out_channels,
                "kernel_size": list(layer.kernel_size), "stride": list(layer.stride),
                "padding": list(layer.padding), "bias": layer.bias is not None}
    if kind is Linear:
        return {"layer": "Linear", "n_in": layer.n_in, "n_out": layer.n_out,
                "activation": _activation_spec(layer.activation), "bias": layer.b is not None}
    if kind is MaxPool2d:
        return {"layer": "MaxPool2d", "kernel_size": list(layer.kernel_size), "stride": list(layer.stride)}
    if kind is Flatten:
        return {"layer": "Flatten", "start_dim": layer.start_dim}
    if kind is Dropout:
        return {"layer": "Dropout", "p": layer.p}
    kinds = ", ".join(k for k in _LAYERS if k != "activation")
    raise ValueError(f"nn.save can store a Sequential of {kinds} layers and the built-in activations; its layer "
                     f"{position} is none of these: {kind.__name__} ({layer!r:.60})")


def model_spec(model: Model) -> dict[str, Any]:
    """What ``nn.save`` stores to rebuild ``model``: its constructor arguments as JSON-ready values."""
    if isinstance(model, Sequential):
        first: dict[int, int] = {}  # id(layer) -> its first position: a layer used again is stored as a reference
        layers = []
        for i, layer in enumerate(model):
            if id(layer) in first:
                layers.append({"layer": "same", "as": first[id(layer)]})
            else:
                first[id(layer)] = i
                layers.append(_layer_spec(layer, i))
        return {"kind": "Sequential", "layers": layers, "engine": "tensor"}
    if not isinstance(model, MLP):
        raise TypeError(f"model_spec expects an nn.MLP or an nn.Sequential, got {type(model).__name__}: "
                        f"{model!r:.40}")
    spec = model.spec()
    seed = spec["seed"]
    return {
        "n_in": spec["n_in"], "hidden": list(spec["hidden"]), "n_out": spec["n_out"],
        "activations": [_activation_spec(a) for a in spec["activations"]],
        "bias": spec["bias"], "init": spec["init"],
        "seed": int(seed) if isinstance(seed, (int, np.integer)) else None,  # a Generator's state is not kept
        "engine": model.engine,
    }


# -- writing -------------------------------------------------------------------------------------------------

#: A killed writer's temporary file older than this (seconds) and no longer locked is removed by the next save
#: of the same target. (The age covers the instant between creating a temporary file and locking it.)
STALE_TEMPORARY_SECONDS = 5.0


def _kind_of(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _temporary_prefix(target: Path) -> str:
    """Short and the same for every save of ``target``: at most 90 characters, whatever the target's length
    (a 255-character file name stays valid), and a digest of the full name so two long names never share it."""
    digest = hashlib.sha256(target.name.encode("utf-8", "surrogateescape")).hexdigest()[:10]
    return f".{target.name[:64]}~{digest}."


def _lock(fd: int, blocking: bool) -> bool:
    """An exclusive advisory lock on ``fd``, held until it is closed (also when the process is killed)."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except OSError:
        return False
    return True


def _remove_stale_temporaries(folder: Path, prefix: str) -> None:
    """Remove the temporary files an earlier, killed save of the same target left behind: a live writer holds
    a lock on its own, so only unlocked ones older than ``STALE_TEMPORARY_SECONDS`` go."""
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix) and n.endswith(".tmp")]
    except OSError:
        return
    for name in names:
        candidate = folder / name
        with contextlib.suppress(OSError):
            fd = os.open(candidate, os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK)
            try:
                info = os.fstat(fd)
                old = time.time() - info.st_mtime > STALE_TEMPORARY_SECONDS
                if stat.S_ISREG(info.st_mode) and old and _lock(fd, blocking=False):
                    os.unlink(candidate)
            finally:
                os.close(fd)


def _write_atomically(target: Path, existing: os.stat_result | None, write: Callable[[IO[bytes]], None]) -> None:
    """``write`` into a temporary file beside ``target``, fsync it, then rename it over ``target``.

    The temporary file is created with mode 0o666 filtered by the umask (what ``open()`` gives a new file), or
    with the mode of the file it replaces; it stays locked until renamed, so a concurrent save never takes it
    for a stale one.
    """
    folder = target.parent
    prefix = _temporary_prefix(target)
    _remove_stale_temporaries(folder, prefix)
    for _ in range(100):
        temp = folder / f"{prefix}{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC, 0o666)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 collisions of 32 random bits
        raise FileExistsError(f"nn.save: could not create a temporary file beside {str(target)!r}")
    try:
        _lock(fd, blocking=True)
        if existing is not None:
            os.fchmod(fd, stat.S_IMODE(existing.st_mode))
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
            os.replace(temp, target)  # still holding the lock: the file is ours until it has its new name
    except BaseException:  # also KeyboardInterrupt: never leave the temporary file behind
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    # Make the rename itself durable (POSIX; some systems cannot open a folder, and that is fine).
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def save(model: Model, path: str | os.PathLike) -> None:
    """Write ``model`` (an ``nn.MLP`` on any engine, or an ``nn.Sequential`` of the CNN layers, ``nn.Linear``
    and the built-in activations) to ``path`` as an ``.npz`` archive: its spec and ``state_dict()``.
    Atomic: ``path`` holds either the old file or the complete new one, never a part.

    A symlink is written through (its target gets the new file, the link stays); a path that exists and is
    not a regular file (a folder, FIFO, device, socket) is refused. A new file gets the mode ``open()``
    would give it under the umask; a replaced file keeps its mode.
    """
    if not isinstance(model, (MLP, Sequential)):
        raise TypeError(f"nn.save expects an nn.MLP or an nn.Sequential, got {type(model).__name__}")
    spec = model_spec(model)  # refuses a layer it could not rebuild before anything is written
    path = _as_path(path, "nn.save")
    target = Path(os.path.realpath(path))  # through symlinks (also chains and symlinked folders)
    if not target.parent.is_dir():
        raise ValueError(f"nn.save: the folder {str(path.parent)!r} of {str(path)!r} does not exist")
    try:
        existing: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        existing = None
    except OSError as error:
        raise ValueError(f"nn.save: cannot look at {str(path)!r} ({error.strerror or error}); expected a path to a "
                         "regular file or to nothing yet") from None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        kind = _kind_of(existing.st_mode)
        if kind == "a folder":
            raise ValueError(f"nn.save: {str(path)!r} is a folder; expected a file path such as 'model.npz'")
        via = f" (through the symlink to {str(target)!r})" if target != Path(os.path.abspath(path)) else ""
        raise ValueError(f"nn.save: {str(path)!r}{via} is {kind}, not a regular file; expected a path to a regular "
                         "file or to nothing yet (nn.save never replaces anything else)")
    arrays: dict[str, np.ndarray] = {
        "__format__": np.array(FORMAT), "__version__": np.array(VERSION),
        "__spec__": np.array(json.dumps(spec)),
    }
    arrays.update({_STATE + name: np.asarray(a, dtype=np.float64) for name, a in model.state_dict().items()})
    _write_atomically(target, existing, lambda f: np.savez(f, **arrays))


# -- reading -------------------------------------------------------------------------------------------------

#: The largest declared (uncompressed) sizes nn.load reads for the archive's text members, in bytes.
MAX_META_BYTES = 4096
MAX_SPEC_BYTES = 1 << 20
_META = ("__format__", "__version__", "__spec__")
_STATE_MEMBER = re.compile(r"state/([Wb]\[[1-9][0-9]{0,5}\]|(?:0|[1-9][0-9]{0,5})\.(?:weight|bias))\.npy")
_SMALLEST_ZIP = 22  # an empty zip archive: its end-of-central-directory record alone


@contextlib.contextmanager
def _open_regular(path: Path, what: str = "nn.load") -> Iterator[IO[bytes]]:
    """``path`` opened for reading if it is a regular file (symlinks followed). Opened without blocking and
    checked on the open descriptor, so a FIFO or device cannot stall the read or slip in after a check."""
    try:
        fd = os.open(path, os.O_RDONLY | _O_NONBLOCK | _O_CLOEXEC)
    except FileNotFoundError:
        raise ModelFileNotFoundError(f"{what}: no file at path {str(path)!r}; expected a file written by "
                                     "nn.save") from None
    except IsADirectoryError:
        raise ModelFileError(f"{what}: {str(path)!r} is a folder, not a model file") from None
    except OSError as error:
        with contextlib.suppress(OSError):  # a socket cannot be opened (ENXIO): name what it is
            mode = os.stat(path).st_mode
            if not stat.S_ISREG(mode):
                raise ModelFileError(f"{what}: {str(path)!r} is {_kind_of(mode)}, not a regular file; expected a "
                                     "file written by nn.save") from None
        raise ModelFileError(f"{what}: cannot open {str(path)!r} ({type(error).__name__}: "
                             f"{error.strerror or error})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = _kind_of(mode)
            if kind == "a folder":
                raise ModelFileError(f"{what}: {str(path)!r} is a folder, not a model file")
            raise ModelFileError(f"{what}: {str(path)!r} is {kind}, not a regular file; expected a file written "
                                 "by nn.save")
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with f:
        yield f


def _npy_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, key: str,
                limit: int | None) -> tuple[tuple[int, ...], np.dtype, bool, int]:
    """The shape, dtype, Fortran order and data size of member ``info`` from its .npy header alone, after
    checking its declared size against ``limit`` and against what the header describes."""
    where = f"nn.load: {str(path)!r} entry {key!r}"
    if limit is not None and info.file_size > limit:
        raise ModelFileError(f"{where} declares {info.file_size:,} bytes; nn.save writes at most {limit:,} there "
                             "(nothing of it was read)")
    try:
        with zf.open(info) as fp:
            version = np.lib.format.read_magic(fp)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
            else:
                raise ValueError(f".npy format version {version}; nn.save writes 1.0")
            header = fp.tell()
    except ModelFileError:
        raise
    except Exception as error:  # zipfile, numpy's header parser and zlib raise many kinds
        raise ModelFileError(f"{where} is not a readable .npy array ({type(error).__name__}: {error})") from None
    if dtype.hasobject:
        raise ModelFileError(f"nn.load: {str(path)!r} holds pickled (object) arrays, which nn.load never reads "
                             f"(loading a pickle can run code from the file); nn.save writes none (entry {key!r})")
    data = math.prod(shape) * dtype.itemsize
    if info.file_size != header + data:
        raise ModelFileError(f"{where} declares {info.file_size:,} bytes, but its header describes {header + data:,} "
                             f"(shape {shape}, {dtype}): a damaged or crafted file (nothing of it was read)")
    return shape, dtype, fortran, data


def _npy_read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, key: str, shape: tuple[int, ...],
              dtype: np.dtype, fortran: bool, data: int) -> np.ndarray:
    """The array of member ``info`` (its header already checked by ``_npy_header``), CRC-checked by zipfile."""
    try:
        with zf.open(info) as fp:
            fp.seek(info.file_size - data)
            raw = fp.read(data)
            if len(raw) != data or fp.read(1):
                raise ValueError(f"expected {data} bytes of data")
    except Exception as error:  # BadZipFile (CRC), zlib.error, EOFError, ...
        raise ModelFileError(f"nn.load: {str(path)!r} is not a complete numpy .npz archive (entry {key!r}: "
                             f"{type(error).__name__}: {error})") from None
    return np.frombuffer(raw, dtype=dtype).reshape(shape, order="F" if fortran else "C").copy()


def _open_zip(f: IO[bytes], path: Path) -> zipfile.ZipFile:
    head = f.read(8)
    if not head.startswith(b"PK"):  # every zip (so every .npz) starts with PK; don't let numpy guess further
        raise ModelFileError(f"nn.load: {str(path)!r} is not a numpy .npz archive, so not a model saved by "
                             f"nn.save (it starts with {head!r}; an .npz archive starts with b'PK')")
    size = os.fstat(f.fileno()).st_size
    try:
        f.seek(0)
        return zipfile.ZipFile(f)
    except Exception as error:  # BadZipFile, and OSError/ValueError/EOFError for some damaged directories
        detail = (f"it is only {size} byte{'s' if size != 1 else ''} long; the smallest zip archive has "
                  f"{_SMALLEST_ZIP}" if size < _SMALLEST_ZIP else f"{type(error).__name__}: {error}")
        raise ModelFileError(f"nn.load: {str(path)!r} is not a complete zip archive, so not a numpy .npz archive "
                             f"nor a model saved by nn.save: it starts like one (b'PK') but {detail} "
                             "(truncated, e.g. an interrupted download, or damaged)") from None


def _read_meta(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], path: Path) -> dict[str, Any]:
    """The spec, after checking the format and version members (small, size-checked before reading)."""
    arrays = {}
    for key in _META:
        info = members.get(key + ".npy")
        if info is None:
            continue
        header = _npy_header(zf, info, path, key, MAX_SPEC_BYTES if key == "__spec__" else MAX_META_BYTES)
        arrays[key] = _npy_read(zf, info, path, key, *header)
    fmt = arrays.get("__format__")
    if fmt is None or fmt.shape != () or fmt.dtype.kind != "U" or str(fmt) != FORMAT:
        names = sorted(name.removesuffix(".npy") for name in members)
        raise ModelFileError(f"nn.load: {str(path)!r} is a .npz archive but not one written by nn.save "
                             f"(no '__format__' = {FORMAT!r} entry; it holds {names[:10]})")
    version = arrays.get("__version__")
    if version is None or version.shape != () or version.dtype.kind not in "iu" or int(version) != VERSION:
        shown = version.tolist() if version is not None else "(none)"
        raise ModelFileError(f"nn.load: {str(path)!r} has format version {shown!r}; this nn reads version "
                             f"{VERSION}")
    try:
        text = arrays["__spec__"]
        if text.shape != () or text.dtype.kind != "U":
            raise ValueError(f"expected a text entry, got shape {text.shape} and dtype {text.dtype}")
        spec = json.loads(str(text))
        if not isinstance(spec, dict):
            raise ValueError(f"expected a JSON object, got {type(spec).__name__}")
    except (KeyError, ValueError, RecursionError) as error:  # RecursionError: JSON nested too deep
        reason = "nested too deep" if isinstance(error, RecursionError) else str(error)
        raise ModelFileError(f"nn.load: {str(path)!r} has no readable '__spec__' entry ({reason})") from None
    return spec


def _read_archive(path: Path, target_for: Callable[[dict[str, Any], dict[str, tuple[int, ...]]], Model],
                  model_given: bool) -> tuple[dict[str, Any], Model, dict[str, np.ndarray]]:
    """Open ``path``, read and check its spec, ask ``target_for(spec, stored shapes)`` for the model the weights
    must fit, then read exactly the arrays that model needs. Every member is size-checked before it is read;
    an archive holding members nn.save never writes is refused without reading them."""
    with _open_regular(path) as f, _open_zip(f, path) as zf:
        infos = zf.infolist()
        members = {info.filename: info for info in infos}
        if len(members) != len(infos):
            raise ModelFileError(f"nn.load: {str(path)!r} holds two entries of the same name; nn.save writes each "
                                 "once")
        spec = _read_meta(zf, members, path)
        unexpected = [n for n in members if n.removesuffix(".npy") not in _META and not _STATE_MEMBER.fullmatch(n)]
        if unexpected:
            shown = ", ".join(f"{n!r} ({members[n].file_size:,} bytes)" for n in sorted(unexpected)[:5])
            raise ModelFileError(f"nn.load: {str(path)!r} holds entries nn.save never writes: {shown}"
                                 f"{' ...' if len(unexpected) > 5 else ''}; nothing of them was read")
        headers = {}
        for name, info in members.items():
            match = _STATE_MEMBER.fullmatch(name)
            if match:
                headers[match[1]] = (info, _npy_header(zf, info, path, match[1], None))
        for key, (_, (_, dtype, _, _)) in headers.items():
            if dtype != np.float64:
                raise ModelFileError(f"nn.load: {str(path)!r} entry {key!r} has dtype {dtype}, expected float64")
        shapes = {key: header[0] for key, (_, header) in headers.items()}
        target = target_for(spec, shapes)
        _check_fits(path, spec, shapes, target, model_given)
        state = {key: _npy_read(zf, info, path, key, *header) for key, (info, header) in headers.items()}
    return spec, target, state


def _build(spec: dict[str, Any], shapes: dict[str, tuple[int, ...]], engine: str | None, path: Path) -> Model:
    """The model ``spec`` describes, its sizes checked against the stored arrays' before anything is built."""
    kind = spec.get("kind", "MLP")
    if kind == "Sequential":
        return _build_sequential(spec, shapes, engine, path)
    if kind != "MLP":
        raise ModelFileError(f"nn.load: the spec stored in {str(path)!r} describes a {kind!r:.40}; this nn builds "
                             f"an 'MLP' or a 'Sequential'; spec: {_short(spec)}")
    try:
        sizes = [int(spec["n_in"]), *(int(h) for h in spec["hidden"]), int(spec["n_out"])]
        # Check the spec against the stored arrays before building (a damaged spec could ask for any size).
        for l in range(1, len(sizes)):
            stored = shapes.get(f"W[{l}]")
            if stored != (sizes[l], sizes[l - 1]):
                raise ValueError(f"the spec's sizes {sizes} need W[{l}] of shape {(sizes[l], sizes[l - 1])}, the "
                                 f"file holds {stored}")
        if not isinstance(spec["activations"], list):
            raise ValueError(f"activations must be a list, got {type(spec['activations']).__name__}")
        activations = []
        for l, a in enumerate(spec["activations"], start=1):
            activations.append(_activation(a, f" for layer {l}"))
        return MLP(spec["n_in"], spec["hidden"], spec["n_out"], activations=activations, bias=spec["bias"],
                   init=spec["init"], seed=spec.get("seed"),  # kept, so spec() and a save again keep it
                   engine=spec["engine"] if engine is None else engine)
    except _SPEC_ERRORS as error:
        raise _spec_error(path, spec, "an MLP", error) from None


_SPEC_ERRORS = (KeyError, TypeError, ValueError, AttributeError, OverflowError)  # OverflowError: 1e400


def _spec_error(path: Path, spec: dict[str, Any], what: str, error: Exception) -> ModelFileError:
    reason = f"{type(error).__name__}: {error}" if not isinstance(error, ValueError) else str(error)
    return ModelFileError(f"nn.load: the spec stored in {str(path)!r} does not describe {what} this nn can build "
                          f"({reason}); spec: {_short(spec)}")


def _activation(spec: Any, where: str = "") -> Activation:
    """The built-in activation a spec's ``{"name": ..., settings}`` entry describes."""
    if not isinstance(spec, dict) or spec.get("name") not in ACTIVATIONS:
        name = spec.get("name") if isinstance(spec, dict) else spec
        raise ValueError(f"unknown activation {name!r}{where}; this nn knows {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[spec["name"]](**{k: v for k, v in spec.items() if k != "name"})


def _stored(shapes: dict[str, tuple[int, ...]], prefix: str, weight: tuple, bias: Any) -> None:
    """ValueError unless the file holds ``{prefix}weight`` of shape ``weight`` and, iff ``bias``, ``{prefix}bias``
    of shape (weight[0],): a layer is built only at the size of arrays the file really holds."""
    if not isinstance(bias, bool):
        raise ValueError(f"bias must be true or false, got {bias!r:.40}")
    wanted = {f"{prefix}weight": weight, **({f"{prefix}bias": weight[:1]} if bias else {})}
    for key, shape in wanted.items():
        if shapes.get(key) != shape:
            raise ValueError(f"the spec needs {key} of shape {shape}, the file holds {shapes.get(key)}")


def _sizes(*values: Any) -> tuple[int, ...]:
    """Layer sizes from a spec: ints (lists of two for a kernel), each checked to be one."""
    out: list[int] = []
    for v in values:
        for n in (v if isinstance(v, list) and len(v) == 2 else [v]):
            if not isinstance(n, int) or isinstance(n, bool):
                raise ValueError(f"expected an int or a pair of ints, got {v!r:.40}")
            out.append(n)
    return tuple(out)


def _conv2d(entry: dict[str, Any], shapes: dict, prefix: str) -> Conv2d:
    kernel = _sizes(entry["kernel_size"])
    _stored(shapes, prefix, _sizes(entry["out_channels"], entry["in_channels"]) + (kernel * 2)[-2:], entry["bias"])
    return Conv2d(**entry)


def _linear(entry: dict[str, Any], shapes: dict, prefix: str) -> Linear:
    _stored(shapes, prefix, _sizes(entry["n_out"], entry["n_in"]), entry["bias"])
    return Linear(**dict(entry, activation=_activation(entry["activation"])))


#: The layers a saved Sequential may hold, by the name its spec gives them, and how each is built.
_LAYERS: dict[str, Callable[[dict[str, Any], dict, str], Any]] = {
    "Conv2d": _conv2d,
    "MaxPool2d": lambda entry, shapes, prefix: MaxPool2d(**entry),
    "Flatten": lambda entry, shapes, prefix: Flatten(**entry),
    "Dropout": lambda entry, shapes, prefix: Dropout(**entry),
    "Linear": _linear,
    "activation": lambda entry, shapes, prefix: _activation(entry["activation"]),
}
#: The most layers a saved Sequential's spec may list (a crafted spec cannot ask for millions of objects).
MAX_LAYERS = 10_000


def _build_sequential(spec: dict[str, Any], shapes: dict[str, tuple[int, ...]], engine: str | None,
                      path: Path) -> Sequential:
    if engine not in (None, "tensor"):
        raise ModelFileError(f"nn.load: {str(path)!r} holds a Sequential, which runs on the tensor engine only; "
                             f"got engine={engine!r}")
    try:
        layers = spec["layers"]
        if not isinstance(layers, list) or not 1 <= len(layers) <= MAX_LAYERS:
            raise ValueError(f"layers must be a list of 1 to {MAX_LAYERS:,} layer specs, got "
                             f"{type(layers).__name__} of {len(layers) if isinstance(layers, list) else '?'}")
        built = []
        for i, entry in enumerate(layers):
            kind = entry.get("layer") if isinstance(entry, dict) else None
            if kind == "same":  # the layer of an earlier place, shared (its weights are stored once)
                j = entry.get("as")
                if type(j) is not int or not 0 <= j < i:
                    earlier = f"0 to {i - 1}" if i else "none: it is the first"
                    raise ValueError(f"layer {i} is the same as layer {j!r:.20}, expected the place of an earlier "
                                     f"layer ({earlier})")
                built.append(built[j])
                continue
            if kind not in _LAYERS:
                raise ValueError(f"layer {i} is {kind!r:.40}; this nn builds {sorted(_LAYERS)}")
            try:
                built.append(_LAYERS[kind]({k: v for k, v in entry.items() if k != "layer"}, shapes, f"{i}."))
            except _SPEC_ERRORS as error:
                raise type(error)(f"layer {i} ({kind}): {error}") from None
        return Sequential(*built)
    except _SPEC_ERRORS as error:
        raise _spec_error(path, spec, "a Sequential", error) from None


def _short(spec: Any) -> str:
    text = repr(spec)
    return text if len(text) <= 300 else text[:300] + "..."


def _described(spec: dict[str, Any]) -> str:
    """What a spec holds, in a few words: "a 2-16-1 MLP", "a Sequential of 9 layers"."""
    if spec.get("kind") == "Sequential":
        layers = spec.get("layers")
        return f"a Sequential of {len(layers) if isinstance(layers, list) else '?'} layers"
    try:
        return "a " + "-".join(str(n) for n in [spec.get("n_in"), *spec.get("hidden", []), spec.get("n_out")]) + " MLP"
    except TypeError:
        return "a ? MLP"


def _check_fits(path: Path, spec: dict[str, Any], shapes: dict[str, tuple[int, ...]], target: Model,
                model_given: bool) -> None:
    """ModelFileError naming every mismatch unless the stored shapes are exactly ``target``'s."""
    expected = {k: v.shape for k, v in target.state_dict().items()}
    if shapes == expected:
        return
    where = "the model you gave" if model_given else "the model its spec describes"
    mine = ("-".join(str(n) for n in target.sizes) if isinstance(target, MLP) else
            f"a {type(target).__name__} of {len(target)} layers" if isinstance(target, Sequential) else
            type(target).__name__)
    held = ", ".join(f"{k} {v}" for k, v in shapes.items())
    diffs = [f"{k}: file {shapes[k] if k in shapes else 'missing'}, model {expected[k] if k in expected else 'missing'}"
             for k in sorted(set(shapes) | set(expected)) if shapes.get(k) != expected.get(k)]
    raise ModelFileError(f"nn.load: {str(path)!r} holds the weights of {_described(spec)} ({held}), which do "
                         f"not fit {where} ({mine}): {'; '.join(diffs)}; nothing was loaded")


def load(path: str | os.PathLike, model: Model | None = None, engine: str | None = None) -> Model:
    """The model saved at ``path`` by ``nn.save``: rebuilt from its spec on its engine (or on ``engine``),
    holding the saved weights bit for bit. Given ``model``, load the weights into it instead (its
    shapes must match the file's) and return it. Raises ``ModelFileError`` naming the file and the
    problem; the model is changed only when everything fits.

    Only a regular file is read (a FIFO or device is refused, never waited on), and of it only the members
    nn.save writes, each after checking its declared size: a crafted archive costs no more memory than the
    model it claims to hold.
    """
    path = _as_path(path, "nn.load")
    if model is not None and not isinstance(model, (MLP, Sequential)):
        raise TypeError(f"nn.load: model must be an nn.MLP, an nn.Sequential or None, got {type(model).__name__}")
    if engine is not None and (not isinstance(engine, str) or engine not in ENGINES):
        raise ValueError(f"nn.load: engine must be one of {sorted(ENGINES)} or None, got {engine!r}")

    def target_for(spec: dict[str, Any], shapes: dict[str, tuple[int, ...]]) -> Model:
        return _build(spec, shapes, engine, path) if model is None else model

    _, target, state = _read_archive(path, target_for, model is not None)
    target.load_state_dict(state)
    return target
