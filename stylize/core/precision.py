"""Which arithmetic a network computes in: bfloat16 where the hardware has it natively, else float32."""

from __future__ import annotations

import os

import keras

from .quiet import gpu_present

CPUINFO = "/proc/cpuinfo"
BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # CPU flags of native bfloat16 arithmetic (Intel Cooper Lake+, AMD Zen 4+)


def resolve_precision(precision: str) -> str:
    """ "auto" becomes bfloat16 where the hardware computes it natively, float32 elsewhere; others pass through.

    Without AVX-512 BF16 or AMX, oneDNN emulates bfloat16 slowly or fails at the first convolution (tried with
    ONEDNN_MAX_CPU_ISA=AVX2), so float32 is the safe choice there.
    """
    if precision != "auto":
        return precision
    return "bfloat16" if bfloat16_supported() else "float32"


# oneDNN's ISA caps below its native bfloat16 (ONEDNN_MAX_CPU_ISA): under one, the CPU's flags don't count. With
# AVX2 it failed at the first bfloat16 convolution on a CPU that has AVX-512 BF16 (how AVX2 CPUs are mimicked here).
ISAS_WITHOUT_BFLOAT16 = ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI")


def bfloat16_supported() -> bool:
    if gpu_present():
        return True
    if os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper() in ISAS_WITHOUT_BFLOAT16:
        return False
    try:
        with open(CPUINFO) as cpuinfo:
            flags = next((line.split(":", 1)[1].split() for line in cpuinfo if line.startswith("flags")), [])
    except OSError:
        return False
    return any(flag in flags for flag in BF16_FLAGS)


def cast_model(model: keras.Model, policy: str) -> keras.Model:
    """A copy of model whose layers compute in policy (a Keras dtype policy), with a copy of its weights."""

    def with_policy(layer):
        if isinstance(layer, keras.layers.InputLayer):
            return layer.__class__.from_config(layer.get_config())
        return layer.__class__.from_config({**layer.get_config(), "dtype": policy})

    clone = keras.models.clone_model(model, clone_function=with_policy)
    clone.set_weights(model.get_weights())
    clone.trainable = False
    return clone
