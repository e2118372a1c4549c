"""nutpie's compiled model with C callbacks that numba caches on disk, across processes.

``nutpie.compile_pymc_model`` builds two numba C callbacks (log density + gradient, and the
expansion to the traced variables) around PyTensor's numba functions. PyTensor caches its
own functions on disk, but nutpie's callbacks read the data through a record whose field
names are fresh UUIDs and embed the data arrays as constants, so numba cannot cache them
and every new process spends most of a model's compile time (about 8 of 9 s for the bundled
Weibull model) re-typing and re-generating them. :func:`compile_model` builds the same
:class:`nutpie.compile_pymc.CompiledPyMCModel` with callbacks generated as source text
that read the data only through pointers, so they do not depend on the data, and lets
numba cache them in a folder of the user's cache directory.

The key of a cache entry is a hash of PyTensor's structural keys of the two compiled graphs
(every operation, its inputs and every constant: priors, dimension lengths, the model's
parametrisation; not the values of ``pm.Data`` nodes, which the callbacks read at run
time), the callbacks' source, the library versions and the CPU; it is derived from the
graph, not from a list of model options, so any model family is keyed the same way. A
model whose graph PyTensor cannot key (an operation without a cache key) is compiled
without the disk cache.

An entry is a folder written in full under a temporary name and renamed into place, with a
manifest of its files' SHA-256 sums; an entry whose manifest is missing, unreadable or does
not match its files (corrupt, or written by something else) is replaced, with a
:class:`KernelCacheWarning`.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal
from weakref import WeakKeyDictionary

import numpy as np

__all__ = [
    "CACHE_ENV",
    "CompiledKernel",
    "KernelCacheWarning",
    "cache_dir",
    "compile_model",
    "model_key",
]

CACHE_ENV = "BAYES_BCSM_CACHE_DIR"
"""Environment variable naming the cache folder (default: the platform's user cache folder
for ``bayes_bcsm``, e.g. ``~/.cache/bayes_bcsm`` on Linux)."""

_FORMAT = 1
"""Version of the entry layout and of the generated callbacks; part of every key."""

_MANIFEST = "manifest.json"

CacheStatus = Literal["hit", "miss", "rebuilt", "uncached"]


class KernelCacheWarning(UserWarning):
    """A cache entry was unusable (corrupt or foreign) and was rebuilt."""


@dataclass(frozen=True)
class CompiledKernel:
    """A compiled model and where its callbacks came from.

    Attributes
    ----------
    compiled : nutpie.compile_pymc.CompiledPyMCModel
    status : {"hit", "miss", "rebuilt", "uncached"}
        Loaded from the disk cache (``hit``); compiled and stored there (``miss``: no entry
        for the key; ``rebuilt``: the entry was corrupt or foreign and was replaced, with a
        :class:`KernelCacheWarning`); or compiled without it (``uncached``: the graph has no
        PyTensor cache key, or the cache folder is not writable).
    key : str or None
        The entry's key (``None`` when uncached).
    """

    compiled: Any
    status: CacheStatus
    key: str | None


def cache_dir() -> Path:
    """The folder holding compiled callbacks: ``$BAYES_BCSM_CACHE_DIR`` if set, else the
    platform's user cache folder for ``bayes_bcsm``; entries live in ``kernels/``."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("bayes_bcsm", appauthor=False))


# --- where numba looks for a callback's cache files ---------------------------------------

_ENTRY_OF: WeakKeyDictionary[Callable, tuple[Path, str]] = WeakKeyDictionary()


def _install_locator() -> None:
    from numba.core.caching import CacheImpl, _CacheLocator

    class _KernelLocator(_CacheLocator):
        """Sends numba to the entry folder registered for a generated callback."""

        def __init__(self, path: Path, name: str) -> None:
            self._path, self._name = path, name

        def ensure_cache_path(self) -> None:
            self._path.mkdir(parents=True, exist_ok=True)

        def get_cache_path(self) -> str:
            return str(self._path)

        def get_source_stamp(self) -> int:
            return _FORMAT

        def get_disambiguator(self) -> str:
            return self._name

        @classmethod
        def from_function(cls, py_func: Callable, py_file: str) -> _KernelLocator | None:
            entry = _ENTRY_OF.get(py_func)
            return None if entry is None else cls(*entry)

    if not any(c.__name__ == "_KernelLocator" for c in CacheImpl._locator_classes):
        CacheImpl._locator_classes.insert(0, _KernelLocator)


# --- the generated callbacks --------------------------------------------------------------

_LOGP_BODY = """\
        logp = numba.carray(logp_, ())
        logp_val, grad = fn(x, {args})
        logp[()] = logp_val
        out[...] = grad
        if not np.all(np.isfinite(out)):
            return 3
        if not np.isfinite(logp_val):
            return 4
"""

_EXPAND_BODY = """\
        (values,) = fn(x, {args})
        out[...] = values
"""


def _callback_source(
    kind: Literal["logp", "expand"],
    n_dim: int,
    n_out: int,
    record: np.dtype,
    keys: list[str],
    data: dict[str, np.ndarray],
) -> str:
    """Source of one C callback reading each shared array from the user-data record by
    pointer, size and shape (offsets in 8-byte words, fixed by the record's layout)."""
    shared = record["shared"]
    base = record.fields["shared"][1]

    def word(part: str, key: str, j: int = 0) -> int:
        offset = base + shared.fields[part][1] + shared[part].fields[key][1] + 8 * j
        if offset % 8:
            raise ValueError("user-data record is not made of 8-byte words")
        return offset // 8

    lines, args = [], []
    for i, key in enumerate(keys):
        value = data[key]
        shape = ", ".join(f"int(u[{word('shape', key, j)}])" for j in range(value.ndim))
        lines.append(
            f"        s{i} = numba.carray(address_as_void_pointer(u[{word('data', key)}]), "
            f"({shape}{',' if value.ndim == 1 else ''}), np.{value.dtype.name})"
        )
        args.append(f"s{i}")
    n_words = record.itemsize // 8
    if kind == "logp":
        head = "def logp_callback(dim, x_, out_, logp_, user_data_):"
        check, fail = f"    if dim != {n_dim}:\n        return -1\n", "1"
        body = _LOGP_BODY.format(args=", ".join(args))
    else:
        head = "def expand_callback(dim, expanded, x_, out_, user_data_):"
        check = f"    if dim != {n_dim} or expanded != {n_out}:\n        return -1\n"
        fail, body = "-2", _EXPAND_BODY.format(args=", ".join(args))
    return (
        f"{head}\n{check}    try:\n"
        f"        u = numba.carray(user_data_, ({n_words},), np.uint64)\n"
        f"        x = numba.carray(x_, ({n_dim},))\n"
        f"        out = numba.carray(out_, ({n_out},))\n"
        + "\n".join(lines)
        + ("\n" if lines else "")
        + body
        + f"    except Exception:\n        return {fail}\n    return 0\n"
    )


def _callback(source: str, fn: Callable, name: str, entry: Path | None) -> Callable:
    """The Python function of ``source`` (calling ``fn``), registered for the disk cache
    in ``entry`` when given."""
    import numba
    from nutpie.compile_pymc import address_as_void_pointer

    env: dict[str, Any] = {
        # an importable module, so that numba can rebuild the cached callbacks
        "__name__": __name__,
        "numba": numba,
        "np": np,
        "fn": fn,
        "address_as_void_pointer": address_as_void_pointer,
    }
    exec(compile(source, f"<bayes_bcsm kernel {name}>", "exec"), env)
    py_func = env[f"{name}_callback"]
    if entry is not None:
        _ENTRY_OF[py_func] = (entry, name)
    return py_func


# --- entries: verify, build, publish ------------------------------------------------------


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _problem(entry: Path, key: str) -> str | None:
    """Why ``entry`` cannot be trusted, or None when its manifest matches its files."""
    try:
        manifest = json.loads((entry / _MANIFEST).read_text())
        files = manifest["files"]
        if manifest.get("key") != key:
            return "its manifest names another key"
        present = {p.name for p in entry.iterdir()} - {_MANIFEST}
        if present != set(files):
            return "its files differ from its manifest"
        for name, digest in files.items():
            if _digest(entry / name) != digest:
                return f"{name} does not match its checksum"
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        return f"its manifest is unreadable ({type(err).__name__})"
    return None


def _seal(folder: Path, key: str) -> None:
    files = {p.name: _digest(p) for p in sorted(folder.iterdir()) if p.name != _MANIFEST}
    tmp = folder / f".{_MANIFEST}.tmp"
    tmp.write_text(json.dumps({"key": key, "format": _FORMAT, "files": files}, indent=1))
    os.replace(tmp, folder / _MANIFEST)


_LEFTOVER_AGE_S = 24 * 3600.0
"""Age after which a half-written or discarded folder (a killed process's) is removed."""


def _remove_leftovers(root: Path) -> None:
    """Remove the temporary and discarded folders of processes that ended without cleaning
    up (older than :data:`_LEFTOVER_AGE_S`, so that none still being written is touched)."""
    import time

    for path in root.iterdir():
        if path.name.startswith((".tmp-", ".trash-")):
            try:
                if time.time() - path.stat().st_mtime > _LEFTOVER_AGE_S:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                pass


def _publish(folder: Path, entry: Path, replace: bool) -> None:
    """Rename the fully written ``folder`` to ``entry``; a bad old entry is moved aside
    first, a good one another process published meanwhile is kept."""
    if replace and entry.exists():
        trash = entry.with_name(f".trash-{uuid.uuid4().hex}")
        try:
            entry.rename(trash)
            shutil.rmtree(trash, ignore_errors=True)
        except OSError:
            pass
    try:
        folder.rename(entry)
    except OSError:  # another process published the same key first
        shutil.rmtree(folder, ignore_errors=True)


def _environment() -> dict[str, Any]:
    """What else the generated machine code depends on: libraries, Python, CPU."""
    from numba.core.registry import cpu_target

    return {
        "format": _FORMAT,
        "versions": {
            pkg: version(pkg) for pkg in ("numba", "llvmlite", "pytensor", "pymc", "nutpie")
        },
        "python": platform.python_version(),
        "cpu": list(map(str, cpu_target.target_context.codegen().magic_tuple())),
    }


def _key(graph_keys: tuple[str, str], sources: tuple[str, str]) -> str:
    blob = json.dumps({"graphs": graph_keys, "sources": sources, **_environment()})
    return hashlib.sha256(blob.encode()).hexdigest()


# --- compile ------------------------------------------------------------------------------


def _functions(model: Any) -> tuple:
    """nutpie's PyTensor functions and initial-point function for ``model`` (as in
    ``nutpie.compile_pymc_model`` with its defaults: support-point start, jittered)."""
    from nutpie.compile_pymc import _make_functions, _wrap_with_lock
    from pymc.initial_point import make_initial_point_fn

    initial_point_fn = _wrap_with_lock(
        make_initial_point_fn(
            model=model,
            default_strategy="support_point",
            jitter_rvs=set(model.free_RVs),
            return_transformed=True,
        )
    )
    return _make_functions(
        model,
        mode="NUMBA",
        compute_grad=True,
        join_expanded=True,
        pymc_initial_point_fn=initial_point_fn,
    )


def _graph_key(fn: Any) -> str | None:
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    return CACHED_SRC_FUNCTIONS.get(fn.vm.jit_fn.py_func)


_SIGNATURES = {
    "logp": "int64(uint64, CPointer(float64), CPointer(float64), CPointer(float64), voidptr)",
    "expand": "int64(uint64, uint64, CPointer(float64), CPointer(float64), voidptr)",
}


@dataclass(frozen=True)
class _Prepared:
    """A model's PyTensor functions, its shared data and the callbacks' source and key."""

    model: Any
    functions: tuple
    keys: dict[Any, str]
    data: dict[str, np.ndarray]
    user_data: np.ndarray
    sources: dict[str, str]
    key: str | None

    def build(self, folder: Path | None) -> list[Any]:
        """The two C callbacks, cached in ``folder`` when given."""
        import numba

        _, _, logp_pt, expand_pt, *_ = self.functions
        fns = {"logp": logp_pt.vm.jit_fn, "expand": expand_pt.vm.jit_fn}
        return [
            numba.cfunc(_SIGNATURES[name], cache=folder is not None)(
                _callback(self.sources[name], fns[name], name, folder)
            )
            for name in ("logp", "expand")
        ]

    def compiled(self, callbacks: list[Any]) -> Any:
        """nutpie's compiled model around ``callbacks``."""
        from nutpie.compile_pymc import CompiledPyMCModel, _prepare_dims_and_coords

        n_dim, n_expanded, logp_pt, expand_pt, initial_point_fn, shape_info, renamed = (
            self.functions
        )
        dims, coords = _prepare_dims_and_coords(self.model, shape_info, renamed)
        return CompiledPyMCModel(
            _n_dim=n_dim,
            dims=dims,
            _coords=coords,
            _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info, strict=True)},
            compiled_logp_func=callbacks[0],
            compiled_expand_func=callbacks[1],
            initial_point_func=initial_point_fn,
            shared_data=self.data,
            shared_var_keys=self.keys,
            user_data=self.user_data,
            n_expanded=n_expanded,
            shape_info=shape_info,
            logp_func=logp_pt,
            expand_func=expand_pt,
            reparameterized_names=renamed,
        )


def _prepare(model: Any) -> _Prepared:
    from nutpie.compile_pymc import make_user_data
    from pytensor import config

    # Without fast-math the stored machine code computes bit for bit what a fresh compilation
    # computes (with it, code compiled in-process and code loaded from the cache differ in
    # the last bits, so the same seed gave other draws in the first process than in later
    # ones); it costs about a tenth of the sampling speed.
    with config.change_flags(numba__fastmath=False):
        functions = _functions(model)
    n_dim, n_expanded, logp_pt, expand_pt, *_ = functions
    shared_vars: list[Any] = []
    for var in [*logp_pt.get_shared(), *expand_pt.get_shared()]:
        if var not in shared_vars:
            shared_vars.append(var)
    # names by position (nutpie uses fresh UUIDs): the callbacks' code is then the same in
    # every process
    keys = {var: f"s{i}" for i, var in enumerate(shared_vars)}
    data = {keys[var]: np.array(var.get_value(), order="C", copy=True) for var in shared_vars}
    for value in data.values():
        value.flags.writeable = False
    user_data = make_user_data(keys, data)
    sources = {
        name: _callback_source(
            name, n_dim, n_out, user_data.dtype, [keys[v] for v in fn.get_shared()], data
        )
        for name, n_out, fn in (("logp", n_dim, logp_pt), ("expand", n_expanded, expand_pt))
    }
    graph_keys = (_graph_key(logp_pt), _graph_key(expand_pt))
    key = None if None in graph_keys else _key(graph_keys, (sources["logp"], sources["expand"]))
    return _Prepared(model, functions, keys, data, user_data, sources, key)


def model_key(model: Any) -> str | None:
    """The cache key of ``model``'s compiled callbacks (None when PyTensor cannot key its
    graph); two models share compiled code exactly when their keys are equal.

    Parameters
    ----------
    model : pymc.Model
    """
    return _prepare(model).key


def compile_model(model: Any) -> CompiledKernel:
    """Compile a PyMC model for nutpie, reusing callbacks cached on disk.

    Parameters
    ----------
    model : pymc.Model

    Returns
    -------
    CompiledKernel
        ``compiled`` has nutpie's interface (``with_data``, ``nutpie.sample``); its initial
        points and log density do not depend on ``status``, so a seed gives the same draws
        whether the callbacks were compiled or loaded.

    Warns
    -----
    KernelCacheWarning
        When the entry for this model is corrupt or foreign (it is rebuilt), or the cache
        folder is not writable (the model is compiled without it).
    """
    prepared = _prepare(model)
    if prepared.key is None:
        callbacks, status = prepared.build(None), "uncached"
    else:
        _install_locator()
        callbacks, status = _cached_build(prepared.key, prepared.build)
    return CompiledKernel(prepared.compiled(callbacks), status, prepared.key)


def _cached_build(
    key: str, build: Callable[[Path | None], list[Any]]
) -> tuple[list[Any], CacheStatus]:
    """Load the callbacks from the entry ``key`` or compile them into a new entry."""
    root = cache_dir() / "kernels"
    entry = root / key
    replace = False
    if entry.exists():
        problem = _problem(entry, key)
        if problem is None:
            try:
                callbacks = build(entry)
                if all(c._cache_hits for c in callbacks):
                    return callbacks, "hit"
                problem = "numba did not find the compiled callbacks in it"
            except Exception as err:  # a bad entry must never stop a fit
                problem = f"loading it failed ({type(err).__name__}: {err})"
        warnings.warn(
            f"ignoring the compiled-model cache entry {entry}: {problem}; recompiling it",
            KernelCacheWarning,
            stacklevel=3,
        )
        replace = True
    folder = root / f".tmp-{key[:16]}-{uuid.uuid4().hex}"
    try:
        folder.mkdir(parents=True)
        _remove_leftovers(root)
        callbacks = build(folder)
        if any(p.suffix == ".nbc" for p in folder.iterdir()):
            _seal(folder, key)
            _publish(folder, entry, replace)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    except OSError as err:  # an unwritable cache folder: compile without it
        warnings.warn(
            f"the compiled-model cache folder {root} is not writable ({err}); set "
            f"{CACHE_ENV} to a writable folder to keep compiled models between runs",
            KernelCacheWarning,
            stacklevel=3,
        )
        shutil.rmtree(folder, ignore_errors=True)
        return build(None), "uncached"
    return callbacks, "rebuilt" if replace else "miss"
