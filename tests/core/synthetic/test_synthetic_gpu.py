"""The real models on a CUDA GPU: skipped unless CUDA and every downloaded weight file are
present (the model manager's default folders, `$ANONNET_MODELS_DIR` or its cache)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.synthetic.devices import select_device
from anonnet_studio.core.synthetic.generator import SyntheticFaceGenerator
from anonnet_studio.core.synthetic.pipeline import REQUIRED_MODELS
from anonnet_studio.core.synthetic.prompts import load_negative_prompt
from anonnet_studio.core.synthetic.settings import GenerationSettings
from anonnet_studio.core.synthetic.verify import EmbeddingVerifier, generate_verified
from anonnet_studio.core.vision.factory import VisionModels
from tests.core.synthetic.conftest import Keyframe

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def real_generator() -> SyntheticFaceGenerator:
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    manager = ModelManager.from_environment(offline=True)
    missing = [name for name in REQUIRED_MODELS if not manager.is_available(name)]
    if missing:
        pytest.skip(f"real weights not installed: {', '.join(missing)}")
    return SyntheticFaceGenerator.load(manager.resolve, select_device("cuda"))


def test_real_models_replace_the_face_and_pass_the_anonymity_check(
    real_generator: SyntheticFaceGenerator, keyframe: Keyframe, vision: VisionModels
) -> None:
    verifier = EmbeddingVerifier(vision.embedder, vision.detector)
    verified = generate_verified(
        real_generator,
        verifier,
        keyframe.frame,
        keyframe.box,
        keyframe.landmarks68,
        "A photorealistic portrait of a young adult White man, with a neutral expression",
        load_negative_prompt(),
        GenerationSettings(seed=1234),
    )
    result = verified.chosen
    assert result.generated_crop.shape == (result.placement.size,) * 2 + (3,)
    inside = result.mask.alpha > 0.5
    original = keyframe.frame
    changed = np.any(result.composited_frame != original, axis=2)
    assert changed.any()
    # A real face, not noise: the generated crop has a face the detector finds.
    assert vision.detector.detect(result.composited_crop), "no face in the synthetic result"
    assert inside.mean() > 0.1
    assert not verified.needs_attention, [a for a in verified.attempts]
