"""Rebuilding a Keras model under another dtype policy, with the same weights.

Two users: generators stored with float16 weights for shipping (`cyclegan_tf.half_weights`),
and generators trained under mixed precision. A generator trained with `mixed_bfloat16` or
`mixed_float16` carries that policy in every layer's config; loaded as it is, it computes in
bf16 (slow on a CPU without native bf16) and converts to a TFLite graph of bf16 ops that the
int8 converter cannot lower (ERROR_NEEDS_FLEX_OPS). The precision is a training choice, not part
of the model (its variables are float32 either way), so saved generators compute in float32.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import keras

# Policies whose compute dtype is not float32: what training under `--precision` leaves behind.
REDUCED_COMPUTE = ("mixed_bfloat16", "mixed_float16", "bfloat16", "float16")


def computes_in_float32(model: keras.Model) -> bool:
    """True when every layer of `model` (nested models included) computes in float32."""
    return all(
        layer.compute_dtype == "float32" and computes_in_float32(layer)
        for layer in getattr(model, "layers", [])
    )


def with_float32_compute(model: keras.Model) -> keras.Model:
    """`model` rebuilt to compute in float32 (float32 variables, the same values)."""
    if computes_in_float32(model):
        return model
    return recast(model, REDUCED_COMPUTE, "float32")


def recast(model: keras.Model, old: Collection[str], new: str) -> keras.Model:
    """A copy of `model` whose `old` dtype policies are `new`, its weights cast to match."""
    copy = keras.Model.from_config(swap_policies(model.get_config(), old, new))
    copy.set_weights(
        [w.astype(v.dtype) for w, v in zip(model.get_weights(), copy.weights, strict=True)]
    )
    return copy


def swap_policies(config: Any, old: Collection[str], new: str) -> Any:
    """A model config with every dtype policy named in `old` replaced by `new`."""
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy" and config["config"].get("name") in old:
            return {**config, "config": {**config["config"], "name": new}}
        return {k: swap_policies(v, old, new) for k, v in config.items()}
    if isinstance(config, list):
        return [swap_policies(v, old, new) for v in config]
    return config
