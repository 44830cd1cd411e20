"""The torch device of the downloaded face backends (the embedded ones run on the CPU)."""

from __future__ import annotations

import torch


def torch_device(device: str | None) -> torch.device:
    """`device` as given ("cpu", "cuda", "mps"); None or "auto": CUDA when present, else
    the CPU (the settings' device choice is resolved upstream; this is for direct use)."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)
