"""Training on several GPUs or machines with tf.distribute.

* ``none``: the default strategy (one CPU or GPU); ``mirrored``: MirroredStrategy over the local
  GPUs; ``auto``: mirrored when more than one GPU is visible, else none. These use ``model.fit``
  with the usual callbacks.
* ``multiworker``: MultiWorkerMirroredStrategy configured by ``TF_CONFIG``. Keras 3's ``model.fit``
  fails under it (keras-team/keras#20585, "Attempt to convert a value (PerReplica...)"), so this
  path runs its own loop with ``strategy.run`` and drives the same Keras callbacks by hand: early
  stopping, best weights and progress behave as in ``fit``. Cancel is agreed on by all workers
  (a flag summed across replicas each step), so no worker is left waiting in a collective.
"""

from __future__ import annotations

import json
import os
from typing import Any

STRATEGIES = ("auto", "none", "mirrored", "multiworker")


def make_strategy(name: str) -> Any:
    from .tf_runtime import load

    tf = load()
    if name == "auto":
        name = "mirrored" if len(tf.config.list_physical_devices("GPU")) > 1 else "none"
    if name == "none":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown strategy {name!r}")


def is_multiworker(strategy: Any) -> bool:
    from .tf_runtime import load

    return isinstance(strategy, load().distribute.MultiWorkerMirroredStrategy)


def is_chief() -> bool:
    """The worker that writes the run: the chief, or worker 0 when TF_CONFIG names no chief."""
    config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    task = config.get("task", {})
    if not task:
        return True
    if "chief" in config.get("cluster", {}):
        return task.get("type") == "chief"
    return task.get("type") == "worker" and int(task.get("index", 0)) == 0


def make_optimizer(learning_rate: Any, policy: str) -> Any:
    """Adam for the custom loop, wrapped in Keras' LossScaleOptimizer under a float16 policy, as
    ``model.compile`` does: float16 gradients of small losses underflow to zero unless the loss is scaled."""
    import keras

    optimizer = keras.optimizers.Adam(learning_rate)
    return keras.optimizers.LossScaleOptimizer(optimizer) if policy == "mixed_float16" else optimizer


def custom_fit(
    strategy: Any,
    model: Any,
    optimizer: Any,
    train_ds: Any,
    val_ds: Any,
    train_steps: int,
    val_steps: int,
    epochs: int,
    callbacks: list[Any],
    cancelled: Any,
    dice_loss: bool = False,
) -> None:
    """A fit loop for MultiWorkerMirroredStrategy (see the module note); datasets must repeat.
    The loss is binary cross-entropy, plus the soft Dice loss when ``dice_loss`` (the "best" preset)."""
    import keras

    from .tf_runtime import load

    tf = load()
    callback_list = keras.callbacks.CallbackList(callbacks, model=model)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    train_iter = iter(strategy.experimental_distribute_dataset(train_ds.with_options(options)))
    val_iter = iter(strategy.experimental_distribute_dataset(val_ds.with_options(options))) if val_ds else None
    bce = keras.losses.BinaryCrossentropy(reduction=None)
    scaling = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)

    from .unet import soft_dice_loss

    def batch_scores(y: Any, p: Any) -> tuple[Any, Any, Any]:
        per_image = tf.reduce_mean(bce(y, p), axis=[1, 2])
        if dice_loss:
            per_image = per_image + soft_dice_loss(y, p)
        t, q = tf.cast(y > 0.5, tf.float32), tf.cast(p > 0.5, tf.float32)
        inter = tf.reduce_sum(t * q, axis=[1, 2, 3])
        sums = tf.reduce_sum(t, axis=[1, 2, 3]) + tf.reduce_sum(q, axis=[1, 2, 3])
        dice = (2 * inter + 1.0) / (sums + 1.0)
        acc = tf.reduce_mean(tf.cast(tf.equal(t, q), tf.float32), axis=[1, 2, 3])
        return per_image, dice, acc

    def reduce_sum(value: Any) -> Any:
        return strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)

    @tf.function
    def train_step(iterator: Any, stop: Any) -> tuple[Any, Any, Any]:
        def step(x: Any, y: Any) -> tuple[Any, Any, Any]:
            with tf.GradientTape() as tape:
                p = model(x, training=True)
                per_image, _, _ = batch_scores(y, tf.cast(p, tf.float32))
                loss = tf.reduce_sum(per_image) / tf.cast(tf.shape(x)[0] * strategy.num_replicas_in_sync, tf.float32)
                # Under float16 the loss is scaled up before the gradient and apply_gradients scales back
                # (skipping a step whose gradients overflowed), as model.fit does with a LossScaleOptimizer.
                scaled = optimizer.scale_loss(loss) if scaling else loss
            grads = tape.gradient(scaled, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
            # Each worker's own flag; the SUM reduce below is a collective over all workers.
            return loss, tf.cast(tf.shape(x)[0], tf.float32), tf.identity(stop)

        loss, n, flag = strategy.run(step, args=next(iterator))
        return reduce_sum(loss), reduce_sum(n), reduce_sum(flag)

    @tf.function
    def val_step(iterator: Any) -> tuple[Any, Any, Any, Any]:
        def step(x: Any, y: Any) -> tuple[Any, Any, Any, Any]:
            per_image, dice, acc = batch_scores(y, tf.cast(model(x, training=False), tf.float32))
            return (
                tf.reduce_sum(per_image),
                tf.reduce_sum(dice),
                tf.reduce_sum(acc),
                tf.cast(tf.shape(x)[0], tf.float32),
            )

        return tuple(reduce_sum(v) for v in strategy.run(step, args=next(iterator)))

    callback_list.on_train_begin()
    for epoch in range(epochs):
        callback_list.on_epoch_begin(epoch)
        total = 0.0
        for batch in range(train_steps):
            loss, _, flag = train_step(train_iter, tf.constant(1.0 if cancelled() else 0.0))
            if float(flag) > 0:
                from .jobs import Cancelled

                raise Cancelled()
            total += float(loss)
            callback_list.on_train_batch_end(batch, {"loss": total / (batch + 1)})
        logs = {"loss": total / max(train_steps, 1)}
        if val_iter is not None:
            sums = [0.0, 0.0, 0.0, 0.0]
            for _ in range(val_steps):
                sums = [a + float(b) for a, b in zip(sums, val_step(val_iter), strict=True)]
            n = max(sums[3], 1.0)
            logs.update(val_loss=sums[0] / n, val_dice=sums[1] / n, val_accuracy=sums[2] / n)
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end()
