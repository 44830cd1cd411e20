"""Generation settings, the retry escalation schedule, the manifest and the prompt file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from anonnet_studio.core.resources import resources_dir
from anonnet_studio.core.synthetic.annotators import ANNOTATOR_FILES
from anonnet_studio.core.synthetic.pipeline import (
    ANNOTATOR_MODEL,
    CONTROLNET_MODELS,
    PARSER_MODEL,
    REQUIRED_MODELS,
)
from anonnet_studio.core.synthetic.prompts import load_negative_prompt
from anonnet_studio.core.synthetic.settings import (
    FACE_PARSING_CLASSES,
    HEAD_PARSING_CLASSES,
    GenerationSettings,
    escalated,
    retry_seed,
)


def test_defaults_follow_the_reference() -> None:
    settings = GenerationSettings()
    assert settings.control_scales == (0.9, 0.4, 0.3)
    assert (settings.steps, settings.guidance) == (35, 8.0)
    # 612 is not a multiple of 8: the largest usable crop is 608.
    assert settings.crop_limits == (512, 608)
    assert settings.strength == 1.0
    assert settings.mask_classes == (1, 2, 3, 4, 5, 9, 10, 11, 12, 13)


def test_escalation_follows_the_schedule_and_caps() -> None:
    base = GenerationSettings(seed=4242, strength=0.9, guidance=8.0, steps=35)
    retries = [escalated(base, n) for n in (1, 2, 3)]
    assert [r.strength for r in retries] == [0.95, 1.0, 1.0]
    assert [r.guidance for r in retries] == [9.0, 10.0, 11.0]
    assert [r.steps for r in retries] == [40, 45, 50]
    seeds = {base.seed, *(r.seed for r in retries)}
    assert len(seeds) == 4, "every retry must use a new seed"
    # The reference crashed here adding 0.05 to the list of ControlNet scales.
    assert all(r.control_scales == base.control_scales for r in retries)

    near_caps = GenerationSettings(guidance=19.5, steps=68, strength=1.0)
    capped = escalated(near_caps, 3)
    assert (capped.guidance, capped.steps, capped.strength) == (20.0, 70, 1.0)


def test_retry_seeds_are_reproducible() -> None:
    assert retry_seed(1234, 2) == retry_seed(1234, 2)
    assert escalated(GenerationSettings(seed=7), 1) == escalated(GenerationSettings(seed=7), 1)
    assert retry_seed(1234, 1) != retry_seed(1235, 1)


def test_overrides_and_validation() -> None:
    settings = GenerationSettings().with_overrides(
        control_scales=[1, 0.5, 0], steps=20, strength=0.9
    )
    assert settings.control_scales == (1.0, 0.5, 0.0)
    assert settings.steps == 20
    assert settings.effective_steps == 18  # diffusers skips the first 10 % at strength 0.9
    head = settings.with_overrides(mask_mode="head")
    assert head.mask_classes == HEAD_PARSING_CLASSES
    assert set(FACE_PARSING_CLASSES) < set(head.mask_classes)
    assert head.with_overrides(parsing_classes=[1, 17]).mask_classes == (1, 17)
    with pytest.raises(ValueError, match="control_scales"):
        GenerationSettings(control_scales=(0.9, 0.4))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="strength"):
        GenerationSettings(strength=0.0)
    with pytest.raises(ValueError, match="retry"):
        escalated(GenerationSettings(), 0)


def test_manifest_declares_every_model_the_loaders_need() -> None:
    manifest = json.loads((resources_dir() / "models" / "diffusion.json").read_text("utf-8"))
    models = {m["name"]: m for m in manifest["models"]}
    assert set(REQUIRED_MODELS) == set(models)
    for model in models.values():
        assert model["kind"] == "downloaded"
        assert model["source"]["type"] == "huggingface"
        assert re.fullmatch(r"[0-9a-f]{40}", model["source"]["revision"]), model["name"]
    repos = [models[name]["source"]["repo"] for name in CONTROLNET_MODELS]
    assert repos == [
        "lllyasviel/control_v11p_sd15_inpaint",
        "lllyasviel/control_v11p_sd15_lineart",
        "lllyasviel/control_v11p_sd15_openpose",
    ]
    annotator_files = {f["path"] for f in models[ANNOTATOR_MODEL]["files"]}
    assert annotator_files == set(ANNOTATOR_FILES)
    # The optional parser is shared with other stages and declared elsewhere.
    other = json.loads((resources_dir() / "models" / "downloaded.json").read_text("utf-8"))
    assert PARSER_MODEL in {m["name"] for m in other["models"]}


def test_negative_prompt_loads_as_one_line(tmp_path: Path) -> None:
    default = load_negative_prompt()
    assert "cartoon" in default and "deformed" in default and "\n" not in default
    # CLIP pre-tokenizes into letter runs, single digits and punctuation; each piece is at
    # least one token and only 75 fit. Rare words split further, hence the margin.
    pieces = re.findall(r"[a-zA-Z]+|[0-9]|[^\sa-zA-Z0-9]+", default)
    assert len(pieces) <= 60, "the negative prompt would be truncated by CLIP"
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "negative.txt").write_text("# comment\nblurry,\n\nugly\n", encoding="utf-8")
    assert load_negative_prompt(tmp_path) == "blurry, ugly"
