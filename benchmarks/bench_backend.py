"""Training and prediction throughput of the U-Net on whatever Keras backend KERAS_BACKEND names.

Needs only Keras, numpy and the backend (JAX, TensorFlow or PyTorch): the project's own model code is
imported from this checkout, not installed, so a GPU server whose Python has JAX but no TensorFlow
build for its CUDA can run it. The batches are numpy arrays in RAM (random pixels, a square mask), so
this measures the model and the backend, not the input pipeline.

    KERAS_BACKEND=jax python benchmarks/bench_backend.py --size 256,512,1024 --bf16 on,off --peak-tflops 989

The model is the ``best`` preset's U-Net (5 levels, 16 filters, BatchNorm, no dropout, BCE + soft Dice,
Adam). FLOPs per image are counted from its convolutions (2 x multiply-adds; a training step ~3x the
forward pass); with ``--peak-tflops`` and a GPU the table gives the fraction of that peak reached.
Prints a table and, as its last line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's carseg_gui, installed or not

import numpy as np


def _list(kind: Any) -> Any:
    return lambda text: [kind(v) for v in text.split(",") if v]


def conv_flops(model: Any) -> int:
    """Forward FLOPs per image of the model's convolutions (2 per multiply-add; the rest is < 1 %)."""
    total = 0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind not in ("Conv2D", "Conv2DTranspose"):
            continue
        kh, kw, cin, cout = (int(d) for d in layer.kernel.shape)
        if kind == "Conv2DTranspose":  # cin/cout swapped in the kernel; every input pixel is spread
            _, h, w, _ = layer.input.shape
            cin, cout = cout, cin
        else:
            _, h, w, _ = layer.output.shape
        total += 2 * int(h) * int(w) * kh * kw * cin * cout
    return total


WARMUP = 2  # steps (and predicted batches) not timed: the first traces and compiles, the second settles


def _timed(run: Any, keras: Any, images: int, batch: int) -> tuple[float, float, Any]:
    """(seconds for the batches after the warm-up, seconds until the first of them starts, run's result):
    one fit or predict call, clocked at each batch's end, so no second call can retrace or recompile."""
    stamps: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            stamps.append(time.perf_counter())

        def on_predict_batch_end(self, batch: int, logs: Any = None) -> None:
            stamps.append(time.perf_counter())

    started = time.perf_counter()
    result = run(Clock())
    ended = time.perf_counter()  # fit and predict return numbers: the last step has finished
    assert len(stamps) == images // batch
    return ended - stamps[WARMUP - 1], stamps[WARMUP - 1] - started, result


def measure(size: int, bf16: bool, batch: int, steps: int, levels: int, filters: int, xla: bool) -> dict[str, Any]:
    """One setting: ``WARMUP`` + ``steps`` training steps, then as many predicted batches; the warm-up
    (tracing, compiling) is reported apart as ``compile_s``."""
    import keras

    from carseg_gui.core.unet import build_unet, compile_unet

    keras.utils.set_random_seed(0)
    policy = "mixed_bfloat16" if bf16 else "float32"
    model = compile_unet(
        build_unet(size, filters, policy, batch_norm=True, dropout=False, levels=levels), 1e-3, xla, loss="bce_dice"
    )
    n = batch * (WARMUP + steps)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)
    y = np.zeros((n, size, size, 1), np.float32)
    y[:, size // 4 : 3 * size // 4, size // 8 : 7 * size // 8] = 1.0
    x[y[..., 0] > 0] //= 2  # the "car" darker than its surroundings

    def fit(clock: Any) -> Any:
        return model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False, callbacks=[clock])

    def predict(clock: Any) -> Any:
        return model.predict(x, batch_size=batch, verbose=0, callbacks=[clock])

    train_s, compile_s, history = _timed(fit, keras, n, batch)
    predict_s, predict_compile_s, _ = _timed(predict, keras, n, batch)
    forward = conv_flops(model)
    timed = batch * steps
    return {
        "size": size,
        "dtype": policy,
        "batch": batch,
        "steps": steps,
        "train_images_per_s": round(timed / train_s, 2),
        "predict_images_per_s": round(timed / predict_s, 2),
        "forward_gflop_per_image": round(forward / 1e9, 2),
        "train_tflops": round(3 * forward * timed / train_s / 1e12, 3),
        "predict_tflops": round(forward * timed / predict_s / 1e12, 3),
        "compile_s": round(compile_s + predict_compile_s, 1),
        "final_loss": round(float(history.history["loss"][-1]), 4),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=_list(int), default=[256], help="input sizes, comma-separated (256,512,1024)")
    p.add_argument("--bf16", type=_list(str), default=["on"], help="mixed bfloat16: on, off or on,off")
    p.add_argument("--steps", type=int, default=10, help="timed training steps (and predicted batches) per setting")
    p.add_argument("--batch", type=int, default=8, help="images per step (the best preset: 8)")
    p.add_argument("--levels", type=int, default=5)
    p.add_argument("--filters", type=int, default=16)
    p.add_argument("--peak-tflops", type=float, help="the GPU's bf16 dense peak, for the fraction reached")
    args = p.parse_args(argv)
    if any(v not in ("on", "off") for v in args.bf16):
        p.error("--bf16 takes on, off or on,off")

    from carseg_gui.core.layers import backend
    from carseg_gui.core.unet import choose_xla, compute_device

    name, device = backend(), compute_device()
    xla = choose_xla("auto", device)  # TensorFlow: on for GPUs, off on CPUs; JAX always compiles
    gpu = device.startswith("GPU")
    runs = [
        measure(size, bf16 == "on", args.batch, args.steps, args.levels, args.filters, xla)
        for size in args.size
        for bf16 in args.bf16
    ]
    for run in runs:
        if gpu and args.peak_tflops:
            run["train_peak_fraction"] = round(run["train_tflops"] / args.peak_tflops, 4)
            run["predict_peak_fraction"] = round(run["predict_tflops"] / args.peak_tflops, 4)
    title = f"U-Net {args.levels} levels x {args.filters} filters, batch {args.batch}, {args.steps} timed steps"
    title += f": {name} on {device}"
    print(title)
    print("-" * len(title))
    columns = ("size", "dtype", "train img/s", "predict img/s", "GFLOP/img", "train TFLOP/s", "% of peak", "compile s")
    print(" ".join(f"{c:>14}" for c in columns))
    for run in runs:
        share = f"{100 * run['train_peak_fraction']:.1f}" if "train_peak_fraction" in run else "-"
        cells = (run["size"], run["dtype"], f"{run['train_images_per_s']:.1f}", f"{run['predict_images_per_s']:.1f}")
        cells += (
            f"{run['forward_gflop_per_image']:.1f}",
            f"{run['train_tflops']:.3f}",
            share,
            f"{run['compile_s']:.1f}",
        )
        print(" ".join(f"{c:>14}" for c in cells))
    import keras

    summary = {"backend": name, "device": device, "keras": keras.__version__, "peak_tflops": args.peak_tflops}
    print(json.dumps({**summary, "runs": runs}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
