"""A batch normalisation layer that runs as one fused TensorFlow op.

Keras 3's BatchNormalization upcasts bfloat16 activations to float32 and normalises with separate
element-wise ops; on the 2-core CPU that doubled the U-Net's training time (43 vs 18 CPU-ms per
128x128 image). TensorFlow's FusedBatchNormV3 takes the bfloat16 tensor as it is (statistics and
parameters stay float32) and cost 24 CPU-ms per image in the same measurement. Same maths: batch
statistics in training, moving averages for inference.

The class is made on first use (TensorFlow is imported inside functions) and registered with Keras,
so saved models that contain it load once :func:`fused_batch_norm_class` has been called.
"""

from __future__ import annotations

from typing import Any

_CLASS: Any = None


def fused_batch_norm_class() -> Any:
    global _CLASS
    if _CLASS is not None:
        return _CLASS
    from .tf_runtime import load

    tf = load()
    import keras

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

    _CLASS = FusedBatchNorm
    return _CLASS
