"""Which torch device and precision the diffusion pipeline runs on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from anonnet_studio.core.errors import ModelError

DevicePreference = Literal["auto", "cuda", "mps", "cpu"]

CPU_WARNING = (
    "No GPU found: synthetic faces are generated on the CPU in full precision, which takes "
    "several minutes per person (a CUDA GPU takes seconds)."
)


@dataclass(frozen=True, slots=True)
class ComputeDevice:
    kind: Literal["cuda", "mps", "cpu"]
    dtype: torch.dtype
    # Keeps only the running model on the GPU (needs `accelerate`); for small GPUs.
    cpu_offload: bool = False
    warning: str | None = None

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.kind)

    def describe(self) -> str:
        precision = "fp16" if self.dtype == torch.float16 else "fp32"
        offload = ", CPU offload" if self.cpu_offload else ""
        return f"{self.kind} ({precision}{offload})"


def select_device(
    preference: DevicePreference = "auto", *, cpu_offload: bool = False
) -> ComputeDevice:
    """CUDA in fp16 if present, else Apple MPS in fp16, else the CPU in fp32 (with a
    warning about time). An explicit preference that is not available is an error."""
    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if preference == "cuda" and not cuda:
        raise ModelError(
            "CUDA was requested but no CUDA GPU is available.",
            hint="Choose 'auto' or 'cpu' as the device.",
        )
    if preference == "mps" and not mps:
        raise ModelError(
            "Apple MPS was requested but is not available on this machine.",
            hint="Choose 'auto' or 'cpu' as the device.",
        )
    if preference in ("auto", "cuda") and cuda:
        return ComputeDevice("cuda", torch.float16, cpu_offload=cpu_offload)
    if preference in ("auto", "mps") and mps:
        return ComputeDevice("mps", torch.float16)
    # fp16 matmuls are slow or unsupported on most CPUs, so the CPU runs in fp32.
    return ComputeDevice("cpu", torch.float32, warning=CPU_WARNING)


def is_out_of_memory(exc: BaseException) -> bool:
    """True for CUDA/MPS out-of-memory errors (torch raises several types for them)."""
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and "out of memory" in text


def out_of_memory_error(size: int, device: ComputeDevice) -> ModelError:
    """The error shown when a generation does not fit in GPU memory."""
    suggestions = [f"lower the maximum crop size (now {size} px; 512 works well)"]
    if device.kind == "cuda" and not device.cpu_offload:
        suggestions.insert(0, "turn on 'offload models to CPU'")
    return ModelError(
        f"Not enough GPU memory to generate a synthetic face at {size}x{size} on "
        f"{device.describe()}.",
        hint="Try to " + " or ".join(suggestions) + ", and close other programs using the GPU.",
    )


def free_device_memory(device: ComputeDevice) -> None:
    """Release cached allocations after a failure so the next attempt can fit."""
    if device.kind == "cuda":
        torch.cuda.empty_cache()
    elif device.kind == "mps":
        torch.mps.empty_cache()
