"""LivePortrait inference written as our own PyTorch modules.

The networks load the official `KwaiVGI/LivePortrait` weights (or their safetensors
conversion) by their exact parameter names; see `loading.py` for the file layouts and
`animator.py` for the crop-space animation API.
"""

from anonnet_studio.core.motion.liveportrait.animator import (
    AnimatorOptions,
    LivePortraitAnimator,
    SourceState,
)
from anonnet_studio.core.motion.liveportrait.config import LivePortraitConfig, official_config
from anonnet_studio.core.motion.liveportrait.keypoints import (
    MotionParams,
    relative_motion,
    rotation_matrix,
    transform_keypoint,
)
from anonnet_studio.core.motion.liveportrait.loading import (
    LivePortraitModels,
    build_liveportrait,
    load_liveportrait,
)

__all__ = [
    "AnimatorOptions",
    "LivePortraitAnimator",
    "LivePortraitConfig",
    "LivePortraitModels",
    "MotionParams",
    "SourceState",
    "build_liveportrait",
    "load_liveportrait",
    "official_config",
    "relative_motion",
    "rotation_matrix",
    "transform_keypoint",
]
