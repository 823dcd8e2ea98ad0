"""Whether bfloat16 pays on this CPU: measured once per machine, not guessed from the CPU's flags.

``auto`` precision on a CPU used to mean "bfloat16 where /proc/cpuinfo lists AMX or AVX-512 BF16". The
flags say what the units are, not what TensorFlow's kernels make of them: measured here, bfloat16
trained 2.4x faster than float32 at 256 px on an AVX-512 BF16 EPYC but only 1.2-1.7x at 128 px, and
an EPYC without the units emulates it: 7.7x slower in this timing, 9x in a training loop
(benchmarks/RESULTS.md, section 2). So ``auto``
times a few training steps of a reference U-Net (128 px, 16 filters, batch norm, batch 8) in float32
and in mixed bfloat16, interleaved, and uses bfloat16 only where it is at least :data:`MARGIN` times as
fast; bfloat16 costs a little precision, so a tie goes to float32.

The answer is cached in a small JSON file (``$CARSEG_PRECISION_CACHE``, else the user's cache folder),
keyed by what decides it: the CPU model and flags, the cores this process may use, the machine, and
the Keras / TensorFlow versions. A damaged cache file is measured again, with a note saying so.
``CARSEG_PRECISION_PROBE=off`` skips the timing and falls back to the flags (the test suite does).
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from .imageio import CorruptFile, atomic_write_json, read_json
from .jobs import Cancelled, CancelToken, Progress, ProgressFn, no_progress

PROBE_VERSION = 1  # bump when the reference model or the timing changes: old answers are then re-measured
MARGIN = 1.15  # bfloat16 must train at least this much faster than float32 to be chosen
REF_SIZE, REF_FILTERS, REF_BATCH = 128, 16, 8  # the reference U-Net (with batch norm) and its batch
UNITS = {"amx_bf16", "amx_tile", "avx512_bf16", "avx512f", "avx2", "bf16", "sve"}  # x86 and ARM flags in the key
REFERENCE = f"U-Net {REF_SIZE} px, {REF_FILTERS} filters, batch norm, batch {REF_BATCH}"

Speeds = dict[str, float]  # images/s per policy: {"float32": ..., "mixed_bfloat16": ...}
Measure = Callable[[CancelToken], Speeds]


@dataclass(frozen=True)
class PrecisionChoice:
    """The dtype policy training uses, the sentence that says why, and the timing behind it (if any)."""

    policy: str
    reason: str
    measured: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """What a run's config.json keeps beside ``dtype_policy``."""
        return {"precision_reason": self.reason, "precision_measured": dict(self.measured) or None}


def policy_words(policy: str) -> str:
    """A dtype policy in the words the training panel and the CLI use."""
    return {"float32": "float32", "mixed_bfloat16": "bfloat16 compute", "mixed_float16": "float16 compute"}.get(
        policy, policy
    )


def cpu_flags() -> set[str]:
    """The CPU's feature flags: x86's "flags" line, or ARM's "Features"."""
    for line in _cpuinfo().splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.partition(":")[2].split())
    return set()


def cpu_has_bf16() -> bool:
    """AMX or AVX-512 BF16 units: the flags alone (the fallback when measuring is switched off)."""
    return bool({"amx_bf16", "avx512_bf16"} & cpu_flags())


def _cpuinfo() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return f.read()
    except OSError:
        return ""


def cpu_model() -> str:
    """x86's "model name"; on ARM, which has none, its implementer and part numbers (the core's identity)."""
    fields: dict[str, str] = {}
    for line in _cpuinfo().splitlines():
        name, _, value = line.partition(":")
        fields.setdefault(name.strip(), value.strip())
    if fields.get("model name"):
        return fields["model name"]
    arm = [f"{k} {fields[k]}" for k in ("CPU implementer", "CPU part", "Hardware") if fields.get(k)]
    return " ".join(arm) or platform.processor() or platform.machine() or "unknown CPU"


def machine_key() -> str:
    """What the answer depends on, as one string: a cached answer for another key is not used."""
    from .layers import backend, load_keras

    keras = load_keras()

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = [f"keras {keras.__version__}", f"backend {backend()}"]
    if backend() == "tensorflow":
        from .tf_runtime import load

        versions.append(f"tensorflow {load().__version__}")
    units = ",".join(sorted(UNITS & cpu_flags())) or "none"
    return " | ".join([f"probe {PROBE_VERSION}", cpu_model(), f"units {units}", f"{cores} cores",
                       platform.machine(), *versions])  # fmt: skip


def cache_path() -> Path:
    env = os.environ.get("CARSEG_PRECISION_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "carseg-gui" / "precision.json"


def resolve_precision(
    setting: str,
    device: str,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    measure: Measure | None = None,
    path: Path | None = None,
    timing: bool = True,
) -> PrecisionChoice:
    """The policy for ``setting`` (auto/on/off) on ``device`` ('CPU' or a GPU's name). ``timing=False``
    decides ``auto`` by the flags (multi-worker training: each worker's timing could differ)."""
    gpu = device != "CPU"
    if setting == "off":
        return PrecisionChoice("float32", "float32: mixed precision off")
    if setting == "on":
        return PrecisionChoice("mixed_float16" if gpu else "mixed_bfloat16", "mixed precision on, as asked")
    if gpu:
        return PrecisionChoice("mixed_float16", "auto: float16 on the GPU, which computes it natively")
    switched_off = os.environ.get("CARSEG_PRECISION_PROBE", "on").lower() in ("off", "0", "no")
    if switched_off or not timing:
        has = cpu_has_bf16()
        why = "CARSEG_PRECISION_PROBE=off" if switched_off else "multi-worker: all workers must agree"
        return PrecisionChoice(
            "mixed_bfloat16" if has else "float32",
            f"auto by the CPU's flags ({'has' if has else 'no'} AMX/AVX-512 BF16), not timed ({why})",
        )
    return _measured_choice(progress, cancel or CancelToken(), measure or measure_speeds, path or cache_path())


def choose_policy(setting: str, device: str, timing: bool = True) -> str:
    """Just the policy of :func:`resolve_precision` (the benchmarks' shorthand)."""
    return resolve_precision(setting, device, timing=timing).policy


def _measured_choice(progress: ProgressFn, cancel: CancelToken, measure: Measure, path: Path) -> PrecisionChoice:
    key = machine_key()
    entries: dict[str, Any] = {}
    try:
        data = read_json(path, {"entries": {}})  # no file yet: nothing measured
        table = data.get("entries") if isinstance(data, dict) else None
        if not isinstance(table, dict):
            raise CorruptFile(f"{path}: damaged (no table of measurements)")
        entries = table
    except (CorruptFile, OSError) as exc:
        entries = {}
        progress(Progress("notice", 0, 0, info={"notice": f"{exc}; timing bfloat16 against float32 again"}))
    entry = entries.get(key)
    if _valid(entry):
        return _choice(entry, cached=True)
    progress(Progress("model", 0, 0, "Timing bfloat16 against float32 on this CPU (once per machine)…"))
    try:
        speeds = measure(cancel)
    except Cancelled:
        raise
    except Exception as exc:  # no bfloat16 kernel, out of memory...: float32 trains all the same
        why = f"bfloat16 could not be timed on this CPU ({type(exc).__name__}: {exc})"
        progress(Progress("notice", 0, 0, info={"notice": f"{why}; training in float32"}))
        return PrecisionChoice("float32", f"auto: float32, {why}")
    entry = {
        "float32_img_s": round(speeds["float32"], 3),
        "bfloat16_img_s": round(speeds["mixed_bfloat16"], 3),
        "reference": REFERENCE,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    entry["policy"] = _policy(entry)  # for a reader of the file; the choice is always made from the speeds
    entries[key] = entry
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path, {"entries": entries})
    except OSError as exc:  # a read-only home: the choice stands, it is only measured again next time
        progress(Progress("notice", 0, 0, info={"notice": f"could not keep the precision timing in {path}: {exc}"}))
    return _choice(entry, cached=False)


def _valid(entry: Any) -> TypeGuard[dict[str, Any]]:
    """Both speeds present, numbers (not booleans), finite and positive."""
    if not isinstance(entry, dict):
        return False
    speeds = [entry.get(k) for k in ("float32_img_s", "bfloat16_img_s")]
    return all(isinstance(v, int | float) and not isinstance(v, bool) and 0 < v < float("inf") for v in speeds)


def _policy(entry: dict[str, Any]) -> str:
    return "mixed_bfloat16" if entry["bfloat16_img_s"] / entry["float32_img_s"] >= MARGIN else "float32"


def _choice(entry: dict[str, Any], cached: bool) -> PrecisionChoice:
    """The choice from the speeds as stored: the ratio shown is the ratio decided on."""
    ratio = entry["bfloat16_img_s"] / entry["float32_img_s"]
    policy = _policy(entry)
    how = (f"{'measured earlier' if cached else 'measured now'} on this CPU with a reference U-Net "
           f"({REF_SIZE} px): bfloat16 {ratio:.2f}x float32's speed")  # fmt: skip
    verdict = "bfloat16" if policy == "mixed_bfloat16" else f"float32 (bfloat16 needs {MARGIN:.2f}x)"
    measured: dict[str, Any] = {k: entry[k] for k in ("float32_img_s", "bfloat16_img_s", "measured_at") if k in entry}
    measured["ratio"] = round(ratio, 3)
    return PrecisionChoice(policy, f"auto: {verdict}, {how}", measured)


def measure_speeds(
    cancel: CancelToken,
    warmup: int = 1,
    rounds: int = 4,
    clear: float = 2.0,
    size: int = REF_SIZE,
    filters: int = REF_FILTERS,
    batch: int = REF_BATCH,
    levels: int = 4,
) -> Speeds:
    """Training images/s of the reference U-Net in float32 and in mixed bfloat16, on random batches.

    Both models are built and warmed up first (the first step traces and compiles), then their steps
    alternate, so a neighbour's load hits both alike; each policy's figure is its fastest step (load
    only ever slows a step down). After two rounds it stops early when one policy is ``clear`` times
    faster than the other: a CPU that emulates bfloat16 (7.7x slower, measured) need not be timed long."""
    cancel.check()
    import numpy as np

    from .unet import build_unet, compile_unet

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (batch, size, size, 3), dtype=np.uint8)
    y = (rng.random((batch, size, size, 1)) > 0.5).astype("float32")
    models = {}
    for policy in ("float32", "mixed_bfloat16"):
        net = build_unet(size, filters, policy, batch_norm=True, levels=levels)
        models[policy] = compile_unet(net, 1e-3, xla=False)
        for _ in range(warmup):
            cancel.check()
            models[policy].train_on_batch(x, y)
    best = {policy: float("inf") for policy in models}
    for done in range(1, rounds + 1):
        for policy, model in models.items():
            cancel.check()
            start = time.perf_counter()
            model.train_on_batch(x, y)
            best[policy] = min(best[policy], time.perf_counter() - start)
        ratio = best["float32"] / best["mixed_bfloat16"]
        if done >= 2 and not 1 / clear < ratio < clear:
            break
    return {policy: batch / seconds for policy, seconds in best.items()}
