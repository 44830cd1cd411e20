"""The document dataclasses: array coercion, interpolation, lookups, settings limits."""

from __future__ import annotations

import random

import numpy as np
import pytest

from anonnet_studio.core.resources import resources_dir
from anonnet_studio.project.schema import (
    DEFAULT_NEGATIVE_PROMPT,
    SEED_RANGE,
    AttributeValue,
    GenerationSettings,
    Identity,
    Method,
    Track,
)
from tests.project.factories import make_demo_project


def _track(frames: list[int], boxes: list[list[float]]) -> Track:
    n = len(frames)
    return Track(
        id=7,
        shot_index=0,
        identity_id="P1",
        frames=frames,
        boxes=boxes,
        landmarks5=np.arange(n * 10, dtype=np.float64).reshape(n, 5, 2),
        scores=[0.9] * n,
        interpolated=[False] * n,
        embedding=[1.0, 0.0],
    )


def test_track_coerces_dtypes_and_refuses_lossy_or_inconsistent_arrays() -> None:
    track = _track([3, 4], [[0, 0, 10, 10], [2, 2, 12, 12]])
    assert track.frames.dtype == np.int32 and track.boxes.dtype == np.float32
    assert track.landmarks5.dtype == np.float32 and track.interpolated.dtype == bool
    with pytest.raises(TypeError):  # float frame indices would be silently truncated
        _track([3.5, 4.0], [[0, 0, 1, 1], [0, 0, 1, 1]])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="strictly increasing"):
        _track([4, 3], [[0, 0, 1, 1], [0, 0, 1, 1]])
    with pytest.raises(ValueError, match="boxes has 1 rows"):
        _track([3, 4], [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="shape"):
        _track([3, 4], [[0, 0, 1], [0, 0, 1]])


def test_track_interpolates_between_stored_frames_and_is_none_outside() -> None:
    track = _track([10, 14], [[0, 0, 100, 100], [40, 8, 140, 108]])
    assert (track.start_frame, track.end_frame, len(track)) == (10, 15, 2)
    np.testing.assert_array_equal(track.box_at(10), [0, 0, 100, 100])
    np.testing.assert_allclose(track.box_at(11), [10, 2, 110, 102])
    np.testing.assert_allclose(track.box_at(13), [30, 6, 130, 106])
    np.testing.assert_allclose(
        track.landmarks5_at(12), (track.landmarks5[0] + track.landmarks5[1]) / 2
    )
    assert track.box_at(9) is None and track.box_at(15) is None
    assert track.row_of(14) == 1 and track.row_of(12) is None
    # The returned box is a copy: editing it must not change the document.
    track.box_at(10)[0] = 999
    assert track.boxes[0, 0] == 0


def test_sparse_landmarks68_only_at_computed_frames() -> None:
    project = make_demo_project()
    track = project.tracks[1]
    assert track.landmarks68 is not None and track.landmarks68_frames is not None
    key = int(track.landmarks68_frames[1])
    np.testing.assert_array_equal(track.landmarks68_at(key), track.landmarks68[1])
    assert track.landmarks68_at(key + 1) is None
    assert track.keyframe is not None and track.keyframe.frame_index == key


def test_project_lookups() -> None:
    project = make_demo_project()
    assert project.identity("P2").name == "Person 2"
    with pytest.raises(KeyError):
        project.identity("P9")
    assert [t.id for t in project.tracks_of("P1")] == [1, 4]
    assert [i.id for i in project.identities_in_shot(0)] == ["P1", "P2"]
    assert [i.id for i in project.identities_in_shot(1)] == ["P3"]
    frames = project.frames_of("P1")
    assert frames.dtype == np.int32
    assert len(frames) == 300 + 360 and frames[0] == 0 and frames[-1] == 899
    assert np.all(np.diff(frames) > 0)
    assert [t.id for t in project.tracks_at(100)] == [1, 2]
    assert project.shot_at(300).index == 1 and project.shot_at(900) is None
    assert project.next_identity_number() == 4


def test_representative_embedding_is_the_normalised_mean_of_track_embeddings() -> None:
    project = make_demo_project()
    mean = project.tracks[1].embedding.astype(np.float64) + project.tracks[4].embedding
    expected = mean / np.linalg.norm(mean)
    np.testing.assert_allclose(project.representative_embedding([1, 4]), expected, rtol=1e-6)
    assert project.identity("P1").embedding.dtype == np.float32


def test_identity_create_draws_seed_from_injected_rng() -> None:
    first = Identity.create(3, rng=random.Random(5), embedding=np.ones(4), track_ids=[1])
    again = Identity.create(3, rng=random.Random(5), embedding=np.ones(4), track_ids=[1])
    assert first.generation.seed == again.generation.seed
    assert SEED_RANGE[0] <= first.generation.seed <= SEED_RANGE[1]
    assert (first.id, first.name, first.hidden, first.method) == (
        "P3",
        "Person 3",
        True,
        Method.BLUR,
    )
    synthetic = Identity.create(
        1, rng=random.Random(0), embedding=np.ones(4), track_ids=[], method=Method.SYNTHETIC
    )
    assert synthetic.method is Method.SYNTHETIC and synthetic.color != first.color
    seeds = {
        Identity.create(1, rng=random.Random(s), embedding=np.ones(2), track_ids=[]).generation.seed
        for s in range(50)
    }
    assert len(seeds) > 40  # really random, not a constant


def test_attribute_override_wins() -> None:
    value = AttributeValue(detected="neutral", confidence=0.6)
    assert value.effective == "neutral"
    value.override = "happy"
    assert value.effective == "happy"
    assert AttributeValue().effective is None


def test_generation_defaults_match_the_reference_method() -> None:
    settings = GenerationSettings(seed=1234)
    assert (settings.steps, settings.guidance, settings.strength) == (35, 8.0, 1.0)
    assert settings.control_scales == (0.9, 0.4, 0.3) and settings.max_side == 612
    assert settings.mask_mode == "face" and settings.mask_margin == 0.15
    assert settings.prompt_override is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("strength", 1.5, "between 0.01 and 1"),
        ("strength", 0.0, "between 0.01 and 1"),
        ("steps", 0, "between 1 and 150"),
        ("steps", 12.5, "whole number"),
        ("steps", True, "whole number"),
        ("guidance", float("nan"), "finite"),
        ("control_scales", (0.9, 0.4), "three numbers"),
        ("mask_mode", "body", "face, head"),
        ("negative_prompt", None, "text"),
        ("tile_size", 3, "unknown"),
    ],
)
def test_generation_setting_limits(name: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GenerationSettings.coerce_field(name, value)
    if name != "tile_size":  # the constructor refuses the same values
        with pytest.raises(ValueError, match=message):
            GenerationSettings(**{name: value})  # type: ignore[arg-type]


def test_generation_setting_coercion() -> None:
    assert GenerationSettings.coerce_field("steps", np.int64(40)) == 40
    assert GenerationSettings.coerce_field("steps", 40.0) == 40
    assert GenerationSettings.coerce_field("control_scales", [1, 0.5, 0]) == (1.0, 0.5, 0.0)
    assert GenerationSettings.coerce_field("prompt_override", "   ") is None


def test_default_negative_prompt_matches_the_editable_resource() -> None:
    path = resources_dir() / "prompts" / "negative.txt"
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    from_file = ", ".join(line.rstrip(",") for line in lines if line and not line.startswith("#"))
    assert from_file == DEFAULT_NEGATIVE_PROMPT


def test_documents_compare_by_value_including_arrays() -> None:
    assert make_demo_project() == make_demo_project()
    changed = make_demo_project()
    changed.tracks[2].boxes[5, 1] += 0.5
    assert changed != make_demo_project()
    assert make_demo_project(seed=1) != make_demo_project(seed=2)
