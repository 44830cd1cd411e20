"""The authors' FAMS code (AGPL-3.0), imported at test time only, as the reference our
implementation must match. Nothing here is copied from it; it is put on `sys.path` for
the import and taken off again.

It is a fork of diffusers (imported as `src.diffusers`) written against diffusers ~0.26
and huggingface_hub < 0.26, and its ReferenceNet modules import a few names from the
*installed* diffusers that have since moved. Three aliases, added only when missing, let
it import beside diffusers 0.42 without changing what any of it computes:

- `huggingface_hub.cached_download` (removed in 0.26; the fork only imports the name,
  these tests never download anything);
- `diffusers.models.embeddings.PositionNet`, renamed `GLIGENTextBoundingboxProjection`
  (GLIGEN only, which FAMS does not use);
- the module `diffusers.models.dual_transformer_2d`, moved to
  `diffusers.models.transformers.dual_transformer_2d` (not used by FAMS either).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tests.conftest import FIXTURES_DIR

# The reference checkout lies beside the test footage (../shared/reference).
REFERENCE_ROOT = Path(
    os.environ.get("ANONNET_FAMS_REFERENCE", FIXTURES_DIR.parent / "reference" / "face_anon_simple")
)


@dataclass(frozen=True)
class ReferenceCode:
    ReferenceNetModel: type[Any]
    UNet2DConditionModel: type[Any]
    StableDiffusionReferenceNetPipeline: type[Any]


def _alias_moved_names() -> None:
    import diffusers.models.embeddings as embeddings
    import diffusers.models.transformers.dual_transformer_2d as dual_transformer
    import huggingface_hub

    if not hasattr(huggingface_hub, "cached_download"):
        huggingface_hub.cached_download = huggingface_hub.hf_hub_download  # type: ignore[attr-defined]
    if not hasattr(embeddings, "PositionNet"):
        embeddings.PositionNet = embeddings.GLIGENTextBoundingboxProjection  # type: ignore[attr-defined]
    sys.modules.setdefault("diffusers.models.dual_transformer_2d", dual_transformer)


@cache
def load_reference_code() -> ReferenceCode:
    """The reference classes; a missing reference checkout is an error, not a skip."""
    if not (REFERENCE_ROOT / "src" / "diffusers").is_dir():
        raise FileNotFoundError(
            f"FAMS reference code missing: {REFERENCE_ROOT} (set ANONNET_FAMS_REFERENCE)"
        )
    _alias_moved_names()
    sys.path.insert(0, str(REFERENCE_ROOT))
    try:
        from src.diffusers.models.referencenet.referencenet_unet_2d_condition import (
            ReferenceNetModel,
        )
        from src.diffusers.models.referencenet.unet_2d_condition import UNet2DConditionModel
        from src.diffusers.pipelines.referencenet.pipeline_referencenet import (
            StableDiffusionReferenceNetPipeline,
        )
    finally:
        sys.path.remove(str(REFERENCE_ROOT))
    return ReferenceCode(
        ReferenceNetModel, UNet2DConditionModel, StableDiffusionReferenceNetPipeline
    )


def reference_layer_names(unet: Any) -> list[list[list[str]]]:
    """Our layer names in the nesting of the reference's `referencenet_states`:
    [down blocks with attention, the mid block, up blocks with attention], each a list of
    the block's self-attention layers in execution order."""
    nested: list[list[list[str]]] = [[], [], []]

    def layers(prefix: str, block: Any) -> list[str]:
        return [
            f"{prefix}.attentions.{j}.transformer_blocks.{k}.attn1"
            for j, attention in enumerate(block.attentions)
            for k in range(len(attention.transformer_blocks))
        ]

    for i, block in enumerate(unet.down_blocks):
        if hasattr(block, "attentions"):
            nested[0].append(layers(f"down_blocks.{i}", block))
    nested[1].append(layers("mid_block", unet.mid_block))
    for i, block in enumerate(unet.up_blocks):
        if hasattr(block, "attentions"):
            nested[2].append(layers(f"up_blocks.{i}", block))
    return nested
