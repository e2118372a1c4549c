"""The compiled-model cache that survives the process (:mod:`bayes_bcsm.inference.kernels`).

Every test points ``BAYES_BCSM_CACHE_DIR`` at a folder of its own, so the cache's state is
the test's, never the user's.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pymc as pm
import pytest

from bayes_bcsm.inference.kernels import (
    CACHE_ENV,
    KernelCacheWarning,
    cache_dir,
    compile_model,
    model_key,
)
from bayes_bcsm.inference.sample import SamplerSettings, clear_compile_cache, sample
from bayes_bcsm.models import PriorSpec, piecewise_model, weibull_model

SETTINGS = SamplerSettings(chains=2, draws=200, tune=200, seed=11, log_likelihood=False)

#: builds the model the tests fit (also run in a new process)
BUILD = """
import numpy as np
from bayes_bcsm.data.design import build_design
from bayes_bcsm.models import weibull_model
from bayes_bcsm.models.simulate import simulate_frame

def design(n=80, columns=("x1", "x2")):
    frame = simulate_frame(np.random.default_rng(5), n, [0.5, -0.3])
    return build_design(frame, list(columns), standardize=True)

def weibull(n=80, columns=("x1", "x2")):
    return weibull_model(design(n, columns))
"""
_namespace: dict = {}
exec(BUILD, _namespace)
design, weibull = _namespace["design"], _namespace["weibull"]


def digest(fit) -> str:
    return hashlib.sha256(fit.idata["posterior"]["beta"].values.tobytes()).hexdigest()


@pytest.fixture(scope="module")
def warm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding the Weibull model's entry, and the draws of its cold fit."""
    folder = tmp_path_factory.mktemp("warm")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(folder))
        clear_compile_cache()
        cold = sample(weibull(), SETTINGS)
    assert cold.kernel_cache == "miss"
    (folder / "cold_draws.txt").write_text(digest(cold))
    return folder


def entry_of(folder: Path) -> Path:
    [entry] = [p for p in (folder / "kernels").iterdir() if not p.name.startswith(".")]
    return entry


def test_cache_dir_follows_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.delenv(CACHE_ENV)
    import platformdirs

    assert cache_dir() == Path(platformdirs.user_cache_dir("bayes_bcsm", appauthor=False))


def test_warm_cache_gives_the_cold_fits_draws_in_this_process(warm_dir, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(warm_dir))
    clear_compile_cache()
    warm = sample(weibull(), SETTINGS)
    assert warm.kernel_cache == "hit" and not warm.cache_hit
    assert warm.kernel_key == entry_of(warm_dir).name
    assert digest(warm) == (warm_dir / "cold_draws.txt").read_text()
    again = sample(weibull(), SETTINGS)
    assert again.kernel_cache == "memory" and again.cache_hit
    assert again.kernel_key == warm.kernel_key


def test_a_new_process_loads_the_model_and_draws_the_same(warm_dir):
    """A new Python process finds the entry (status ``hit``) and, with the same seed,
    draws exactly what the process that compiled it drew."""
    script = BUILD + textwrap.dedent(
        """
        import hashlib
        from bayes_bcsm.inference.sample import SamplerSettings, sample
        settings = SamplerSettings(chains=2, draws=200, tune=200, seed=11, log_likelihood=False)
        fit = sample(weibull(), settings)
        beta = fit.idata["posterior"]["beta"].values.tobytes()
        print(fit.kernel_cache, hashlib.sha256(beta).hexdigest())
        """
    )
    env = {**os.environ, CACHE_ENV: str(warm_dir)}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    status, draws = out.stdout.split()
    assert status == "hit"
    assert draws == (warm_dir / "cold_draws.txt").read_text()
    assert "KernelCacheWarning" not in out.stderr


def test_key_changes_with_priors_covariates_and_interval_count_not_with_data():
    """The key is the PyTensor graph's: another prior, covariate set or number of
    intervals is another kernel; other patients (values and count) are the same kernel."""
    base = model_key(weibull().model)
    assert base is not None
    assert model_key(weibull(n=123).model) == base
    other_prior = weibull_model(design(), prior=PriorSpec(family="normal", scale=2.5))
    assert model_key(other_prior.model) != base
    assert model_key(weibull(columns=("x1",)).model) != base
    four = model_key(piecewise_model(design(), cuts=(6, 12, 24, 36)).model)
    assert model_key(piecewise_model(design(), cuts=(6, 12, 24)).model) != four


def test_model_without_a_graph_key_is_compiled_uncached(monkeypatch, tmp_path):
    import bayes_bcsm.inference.kernels as kernels

    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(kernels, "_graph_key", lambda fn: None)
    with pm.Model() as model:
        pm.Normal("mu", 0.0, 1.0)
    kernel = compile_model(model)
    assert kernel.status == "uncached" and kernel.key is None
    assert not (tmp_path / "kernels").exists()


@pytest.mark.slow
def test_changed_cut_points_reuse_the_kernel_with_the_new_cut_points(monkeypatch, tmp_path):
    """Cut points enter the piecewise model as data (exposure matrix, interval of each
    time), so models with moved cut points share the kernel; the shared kernel computes the
    log density of the model it is used for (PyMC's own ``compile_logp``, to 1e-10), not
    that of the model it was compiled for."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    first = piecewise_model(design(), cuts=(6, 12, 24, 36))
    moved = piecewise_model(design(), cuts=(3, 18, 30, 60))
    assert compile_model(first.model).status == "miss"
    kernel = compile_model(moved.model)
    assert kernel.status == "hit"
    compiled = kernel.compiled
    point = compiled.initial_point_func(4)
    signature = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_uint64, *(ctypes.c_void_p,) * 4)
    callback = signature(compiled.compiled_logp_func.address)
    grad, logp = np.zeros_like(point), np.zeros(())
    pointers = (point, grad, logp, compiled.user_data)
    assert callback(point.size, *(a.ctypes.data for a in pointers)) == 0
    free = moved.model.initial_point()  # unconstrained value variables
    values = {
        name: point[where].reshape(shape)
        for name, where, shape in zip(*compiled.shape_info, strict=True)
        if name in free
    }
    assert set(values) == set(free)
    want = moved.model.compile_logp()(values)
    other = first.model.compile_logp()(values)
    np.testing.assert_allclose(float(logp), want, rtol=0, atol=1e-10)
    assert abs(float(logp) - other) > 1e-3


@pytest.mark.parametrize(
    "damage",
    ["flip bytes of the compiled code", "garbage manifest", "foreign file"],
)
def test_corrupt_or_foreign_entry_is_rebuilt_with_a_warning(
    warm_dir, tmp_path, monkeypatch, damage
):
    folder = tmp_path / "cache"
    shutil.copytree(warm_dir / "kernels", folder / "kernels")
    entry = entry_of(folder)
    if damage == "flip bytes of the compiled code":
        [code] = [
            p
            for p in entry.iterdir()
            if p.name.startswith("bayes_bcsm kernel logp") and p.suffix == ".nbc"
        ]
        blob = bytearray(code.read_bytes())
        blob[len(blob) // 2 : len(blob) // 2 + 64] = b"\xff" * 64
        code.write_bytes(bytes(blob))
    elif damage == "garbage manifest":
        (entry / "manifest.json").write_text("{not json")
    else:
        (entry / "other.nbi").write_bytes(b"written by something else")
    monkeypatch.setenv(CACHE_ENV, str(folder))
    clear_compile_cache()
    with pytest.warns(
        KernelCacheWarning, match=r"ignoring the compiled-model cache entry .*recompiling"
    ):
        fit = sample(weibull(), SETTINGS)
    assert fit.kernel_cache == "rebuilt" and fit.kernel_key == entry_of(folder).name
    assert digest(fit) == (warm_dir / "cold_draws.txt").read_text()
    manifest = json.loads((entry_of(folder) / "manifest.json").read_text())
    assert manifest["key"] == entry_of(folder).name
    clear_compile_cache()
    assert sample(weibull(), SETTINGS).kernel_cache == "hit"


def test_unwritable_cache_folder_compiles_without_it(monkeypatch, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    with pm.Model() as model:
        pm.Normal("mu", 0.0, 1.0)
    with pytest.warns(KernelCacheWarning, match=r"is not writable .*BAYES_BCSM_CACHE_DIR"):
        kernel = compile_model(model)
    assert kernel.status == "uncached"


def test_a_killed_compilations_leftovers_are_removed_when_old(warm_dir, tmp_path, monkeypatch):
    """Temporary folders of a compilation that never finished are removed a day later, not
    while another process may still be writing them."""
    folder = tmp_path / "cache"
    (folder / "kernels").mkdir(parents=True)
    old, fresh = folder / "kernels" / ".tmp-old-1", folder / "kernels" / ".tmp-fresh-2"
    for path in (old, fresh):
        path.mkdir()
        (path / "half.nbc").write_bytes(b"x")
    os.utime(old, (0, 0))
    monkeypatch.setenv(CACHE_ENV, str(folder))
    clear_compile_cache()
    assert sample(weibull(), SETTINGS).kernel_cache == "miss"
    assert not old.exists() and fresh.exists()
