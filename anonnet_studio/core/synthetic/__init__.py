"""Synthetic faces: SD 1.5 + ControlNet inpainting with an anonymity check.

Heavy modules (torch, diffusers) load only when their submodules are imported; import
from the submodules directly, e.g. `from anonnet_studio.core.synthetic.generator import
SyntheticFaceGenerator`.
"""
