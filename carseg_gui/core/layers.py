"""Batch normalisation for the U-Net: one fused TensorFlow op on TensorFlow, Keras' own layer elsewhere.

Keras 3's BatchNormalization upcasts bfloat16 activations to float32 and normalises with separate
element-wise ops; on the 2-core CPU that doubled the U-Net's training time (43 vs 18 CPU-ms per
128x128 image). TensorFlow's FusedBatchNormV3 takes the bfloat16 tensor as it is (statistics and
parameters stay float32) and cost 24 CPU-ms per image in the same measurement. Same maths: batch
statistics in training, moving averages for inference.

On another Keras backend (JAX on a GPU server without a TensorFlow build) there is no such op, and
XLA fuses the element-wise ops itself: the class is then a thin subclass of Keras' BatchNormalization
under the same registered name, with the same four weights in the same order and the same config, so
a model saved on one backend loads on the other.

The class is made on first use (TensorFlow is imported inside functions) and registered with Keras,
so saved models that contain it load once :func:`fused_batch_norm_class` has been called.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

_CLASS: Any = None


def load_keras() -> Any:
    """The keras module on the backend ``KERAS_BACKEND`` names (TensorFlow, the default, imported
    quietly first so its start-up chatter stays off the terminal)."""
    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow" and importlib.util.find_spec("tensorflow"):
        from .tf_runtime import load

        load()
    import keras

    return keras


def backend() -> str:
    """The Keras backend in use: 'tensorflow', 'jax', 'torch' or 'numpy'."""
    return str(load_keras().backend.backend())


def fused_batch_norm_class() -> Any:
    global _CLASS
    if _CLASS is None:
        keras = load_keras()
        if keras.backend.backend() == "tensorflow":
            _CLASS = _fused_class(keras)
        else:
            _CLASS = keras.saving.register_keras_serializable(package="carseg")(portable_batch_norm_class(keras))
    return _CLASS


def portable_batch_norm_class(keras: Any) -> Any:
    """Keras' BatchNormalization with the fused layer's name, arguments and config (not registered:
    :func:`fused_batch_norm_class` registers the one class of the process)."""

    class FusedBatchNorm(keras.layers.BatchNormalization):
        def __init__(self, momentum: float = 0.9, epsilon: float = 1e-3, **kwargs: Any) -> None:
            super().__init__(momentum=momentum, epsilon=epsilon, **kwargs)

        def get_config(self) -> dict[str, Any]:
            # Only what the fused layer's config holds, so either class can read the other's.
            return {**keras.layers.Layer.get_config(self), "momentum": self.momentum, "epsilon": self.epsilon}

    return FusedBatchNorm


def _fused_class(keras: Any) -> Any:
    from .tf_runtime import load

    tf = load()

    @keras.saving.register_keras_serializable(package="carseg")
    class FusedBatchNorm(keras.layers.Layer):
        def __init__(self, momentum: float = 0.9, epsilon: float = 1e-3, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.momentum = momentum
            self.epsilon = epsilon

        def build(self, input_shape: Any) -> None:
            shape = (int(input_shape[-1]),)

            def weight(name: str, init: str, trainable: bool) -> Any:
                # float32 whatever the dtype policy: the fused op wants float32 statistics.
                return self.add_weight(
                    shape=shape, initializer=init, name=name, trainable=trainable, dtype="float32", autocast=False
                )

            self.gamma = weight("gamma", "ones", True)
            self.beta = weight("beta", "zeros", True)
            self.moving_mean = weight("moving_mean", "zeros", False)
            self.moving_variance = weight("moving_variance", "ones", False)

        def call(self, x: Any, training: Any = None) -> Any:
            empty = tf.constant([], tf.float32)
            if training:
                y, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
                    x=x, scale=self.gamma.value, offset=self.beta.value, mean=empty, variance=empty,
                    epsilon=self.epsilon, is_training=True, data_format="NHWC",
                )  # fmt: skip
                m = self.momentum
                self.moving_mean.assign(self.moving_mean.value * m + mean * (1 - m))
                self.moving_variance.assign(self.moving_variance.value * m + variance * (1 - m))
                return y
            y, *_ = tf.raw_ops.FusedBatchNormV3(
                x=x, scale=self.gamma.value, offset=self.beta.value, mean=self.moving_mean.value,
                variance=self.moving_variance.value, epsilon=self.epsilon, is_training=False, data_format="NHWC",
            )  # fmt: skip
            return y

        def compute_output_shape(self, input_shape: Any) -> Any:
            return input_shape

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon}

    return FusedBatchNorm
