"""`AnimatedFaceSource` through the real renderer: two people animated independently, a
missing face redacted, LivePortrait (random weights) end to end through the model manager,
and the project glue of the synthetic-face service (`app.synthetic`)."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from liveportrait_testing import TINY_CONFIG, install_tiny_liveportrait
from test_fallback_warp import (
    Models,
    embedded_models,
    face_size,
    face_tracks,
    masked,
    read_frames,
    redact,
    stand_in_face,
    synthetic_plan,
)

from anonnet_studio.app.synthetic import (
    build_face_source,
    generate_missing_faces,
    motion_backend,
    synthetic_keyframe,
    synthetic_landmarks,
)
from anonnet_studio.core.anonymize.plan import RedactionMethod, TrackGeometry
from anonnet_studio.core.anonymize.renderer import render
from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.models.manifest import load_manifest_dir
from anonnet_studio.core.motion.driving import VideoFrames
from anonnet_studio.core.motion.face_source import (
    AnimatedFaceSource,
    LivePortraitBackend,
    MotionOptions,
)
from anonnet_studio.core.motion.fallback_warp import FallbackWarpBackend
from anonnet_studio.core.resources import resources_dir
from anonnet_studio.core.synthetic.attempts import FacePlacement, GenerationAttempt
from anonnet_studio.core.synthetic.crop import plan_crop
from anonnet_studio.core.synthetic.generator import GenerationResult
from anonnet_studio.core.synthetic.mask import FaceMask
from anonnet_studio.core.synthetic.settings import GenerationSettings
from anonnet_studio.core.vision.types import cosine_distance
from anonnet_studio.project.io import load_project, save_project
from anonnet_studio.project.schema import (
    Identity,
    Keyframe,
    Method,
    Project,
    Shot,
    SourceMedia,
    Track,
)
from anonnet_studio.project.synthetic_faces import (
    NEEDS_ATTENTION,
    GeneratedFace,
    RecordGeneration,
)
from tests.conftest import fixture_video
from tests.media_factory import make_side_by_side, make_variant

TWO_SHOT_FRAMES = 20
LIVEPORTRAIT_FRAMES = 6


@pytest.fixture(scope="module")
def models() -> Models:
    return embedded_models()


@pytest.fixture(scope="module")
def manager(tmp_path_factory: pytest.TempPathFactory) -> ModelManager:
    """The real offline model manager with no downloaded model at all."""
    home = tmp_path_factory.mktemp("manager")
    return ModelManager(
        load_manifest_dir(resources_dir() / "models"),
        user_dir=home / "models",
        cache_dir=home / "cache",
        offline=True,
        settings_path=home / "model-locations.json",
    )


@pytest.fixture(scope="module")
def donors() -> dict[str, np.ndarray]:
    """Frontal frames of two other real people: the stand-in "synthetic" faces."""
    return {
        "P1": read_frames(fixture_video("lp_d19.mp4"), 31)[30],
        "P2": read_frames(fixture_video("lp_d11.mp4"), 1)[0],
    }


@pytest.fixture(scope="module")
def two_shot(tmp_path_factory: pytest.TempPathFactory, models: Models):
    """lp_d18 (left) and lp_d3 (right, turning her head) side by side, with their tracks."""
    path = tmp_path_factory.mktemp("two_shot") / "two_shot.mp4"
    make_side_by_side(
        fixture_video("lp_d18.mp4"),
        fixture_video("lp_d3.mp4"),
        path,
        size=(640, 320),
        max_frames=TWO_SHOT_FRAMES,
    )
    frames = read_frames(path, TWO_SHOT_FRAMES)
    return (
        path,
        frames,
        dict(zip(("P1", "P2"), face_tracks(frames, models.detector, 2), strict=True)),
    )


def fallback_source(models, path, frames, tracks, donors, people=("P1", "P2")):
    faces = {
        person: stand_in_face(person, donors[person], frames[0], 0, tracks[person], models)
        for person in people
    }
    return AnimatedFaceSource(
        faces,
        FallbackWarpBackend(models.landmarks),
        VideoFrames(path),
        tracks={person: [tracks[person]] for person in people},
    )


def test_two_people_in_one_frame_are_animated_independently(models, two_shot, donors):
    path, frames, tracks = two_shot
    both = fallback_source(models, path, frames, tracks, donors)
    both.prepare()
    plan = synthetic_plan({person: [track] for person, track in tracks.items()})
    outputs, redactor = redact(frames, plan, both)
    assert redactor.log.failure_count == 0

    donor_embeddings = {
        person: models.embedder.embed(
            image, max(models.detector.detect(image), key=lambda d: d.score)
        )
        for person, image in donors.items()
    }
    for person, track in tracks.items():
        # Each person alone gives exactly the same face: the other's animation, colour
        # statistics and tracking never leak into it.
        alone = fallback_source(models, path, frames, tracks, donors, people=(person,))
        single_plan = synthetic_plan({person: [track]})
        single, _ = redact(frames, single_plan, alone)
        for index in (0, TWO_SHOT_FRAMES // 2, TWO_SHOT_FRAMES - 1):
            mine = masked(single_plan, index, frames[0].shape)
            assert np.array_equal(outputs[index][mine], single[index][mine])

            box = track.boxes[index]
            found = [
                d
                for d in models.detector.detect(outputs[index])
                if d.box[0] < box[2] and d.box[2] > box[0]
            ]
            assert len(found) == 1, f"{person} frame {index}"
            rendered = models.embedder.embed(outputs[index], found[0])
            other = "P2" if person == "P1" else "P1"
            assert cosine_distance(rendered, donor_embeddings[person]) < cosine_distance(
                rendered, donor_embeddings[other]
            )
            error = np.linalg.norm(
                models.landmarks.landmarks68(outputs[index], box)
                - models.landmarks.landmarks68(frames[index], box),
                axis=1,
            )
            assert error.mean() < 0.03 * face_size(box), f"{person} frame {index}"


def test_a_person_without_a_synthetic_face_is_redacted_by_the_renderer(
    models, two_shot, donors, tmp_path: Path
) -> None:
    path, frames, tracks = two_shot
    source = fallback_source(models, path, frames, tracks, donors, people=("P1",))
    assert source.identities == ("P1",)
    plan = synthetic_plan({person: [track] for person, track in tracks.items()}, crf=0)

    result = render(path, tmp_path / "out.mp4", plan, None, synthetic=source)

    assert result.frames_written == TWO_SHOT_FRAMES
    # P2 has no synthetic face: the renderer blurs them in every frame and says so.
    assert result.synthetic_fallback_frames == {"P2": TWO_SHOT_FRAMES}
    assert result.face_failure_count == 0
    rendered = read_frames(tmp_path / "out.mp4", TWO_SHOT_FRAMES)
    for index in (0, TWO_SHOT_FRAMES - 1):
        x0, y0, x1, y1 = (int(v) for v in tracks["P2"].boxes[index])
        blurred, original = rendered[index][y0:y1, x0:x1], frames[index][y0:y1, x0:x1]
        assert _detail(blurred) < 0.2 * _detail(original)  # the face's detail is gone
        x0, y0, x1, y1 = (int(v) for v in tracks["P1"].boxes[index])
        face = rendered[index][y0:y1, x0:x1].astype(int)
        assert np.abs(face - frames[index][y0:y1, x0:x1].astype(int)).mean() > 10
        assert _detail(rendered[index][y0:y1, x0:x1]) > 0.2 * _detail(
            frames[index][y0:y1, x0:x1]
        )  # P1 shows a (synthetic) face, not a blur


def _detail(image: np.ndarray) -> float:
    """Variance of the Laplacian: high for a sharp face, low once it is blurred."""
    grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


@pytest.fixture(scope="module")
def liveportrait_manager(tmp_path_factory: pytest.TempPathFactory) -> ModelManager:
    """A model manager whose user folder holds random LivePortrait weights in the
    safetensors layout, as a user who dropped the files there would have them."""
    home = tmp_path_factory.mktemp("lp_manager")
    install_tiny_liveportrait(home / "models")
    return ModelManager(
        load_manifest_dir(resources_dir() / "models"),
        user_dir=home / "models",
        cache_dir=home / "cache",
        offline=True,
        settings_path=home / "model-locations.json",
    )


def test_liveportrait_animates_through_the_real_renderer(
    models, donors, liveportrait_manager: ModelManager, tmp_path: Path
) -> None:
    clip = make_variant(
        fixture_video("lp_d18.mp4"),
        tmp_path / "clip.mp4",
        width=256,
        max_frames=LIVEPORTRAIT_FRAMES,
    )
    frames = read_frames(clip, LIVEPORTRAIT_FRAMES)
    track = face_tracks(frames, models.detector)[0]
    options = MotionOptions(retarget_eyes=True, retarget_lips=True)
    backend = motion_backend(
        liveportrait_manager, models.landmarks, "cpu", options, liveportrait_config=TINY_CONFIG
    )
    assert isinstance(backend, LivePortraitBackend)
    face = stand_in_face("P1", donors["P1"], frames[0], 0, track, models)
    source = AnimatedFaceSource({"P1": face}, backend, VideoFrames(clip), tracks={"P1": [track]})
    assert source.backend_name == "LivePortrait" and not source.is_fallback
    source.prepare()

    plan = synthetic_plan({"P1": [track]}, crf=0)
    result = render(clip, tmp_path / "animated.mp4", plan, None, synthetic=source)
    keep = dataclasses.replace(plan.people[0], method=RedactionMethod.KEEP)
    kept = dataclasses.replace(plan, people=[keep])
    reference = render(clip, tmp_path / "kept.mp4", kept, None)

    assert result.frames_written == reference.frames_written == LIVEPORTRAIT_FRAMES
    assert result.face_failure_count == 0
    animated = read_frames(tmp_path / "animated.mp4", LIVEPORTRAIT_FRAMES)
    original = read_frames(tmp_path / "kept.mp4", LIVEPORTRAIT_FRAMES)
    for index in range(LIVEPORTRAIT_FRAMES):
        inside = masked(plan, index, frames[0].shape)
        # Lossless encoding: only the 2x2 chroma blocks touching the mask may differ.
        outside = cv2.dilate(inside.astype(np.uint8), np.ones((5, 5), np.uint8)) == 0
        assert np.array_equal(animated[index][outside], original[index][outside])
        assert np.abs(animated[index][inside].astype(int) - original[index][inside]).mean() > 5


# --- the project glue (app.synthetic) ------------------------------------------------------


def analysed_project(models: Models, frames: list[np.ndarray], video: Path) -> Project:
    """A project for `video` as the analysis would leave it: one synthetic person with a
    dense track over `frames` and a keyframe with 68 landmarks."""
    track = face_tracks(frames, models.detector)[0]
    count = len(frames)
    keyframe = Keyframe(
        0, 0.0, 0.0, 0.0, 1.0, models.landmarks.landmarks68(frames[0], track.boxes[0])
    )
    embedding = np.ones(128, np.float32) / np.sqrt(128)
    project = Project(
        source=SourceMedia(str(video), "0" * 64, video.stat().st_size, {}),
        shots=[Shot(0, 0, count)],
        tracks={
            0: Track(
                id=0,
                shot_index=0,
                identity_id="P1",
                frames=np.arange(count),
                boxes=track.boxes,
                landmarks5=track.landmarks5,
                scores=np.ones(count),
                interpolated=np.zeros(count, bool),
                embedding=embedding,
                keyframe=keyframe,
            )
        },
    )
    identity = Identity.create(
        1, rng=random.Random(0), embedding=embedding, track_ids=[0], method=Method.SYNTHETIC
    )
    project.identities.append(identity)
    return project


def stand_in_generation(
    models: Models, donor: np.ndarray, frame: np.ndarray, track: Track
) -> tuple[Any, GeneratedFace]:
    """A generation run with a stand-in face as the generated one: a first attempt that
    still matched and a second that passed, as `app.synthetic.generate_face` returns it."""
    geometry = TrackGeometry(track.frames, track.boxes, track.landmarks5)
    face = stand_in_face("P1", donor, frame, 0, geometry, models)
    assert track.keyframe is not None
    placement = plan_crop(
        track.boxes[0],
        track.keyframe.landmarks68,
        frame.shape,
        crop_scale=1.8,
        size_limits=(512, 612),
    )
    empty = np.zeros(face.image.shape[:2], np.uint8)
    result = GenerationResult(
        generated_crop=face.image,
        composited_crop=face.image,
        composited_frame=frame,
        mask=FaceMask(empty, empty.astype(np.float32), "landmarks"),
        placement=placement,
        landmarks_crop=placement.frame_to_crop(track.keyframe.landmarks68),
        lineart=face.image,
        openpose=face.image,
        settings=GenerationSettings(),
    )
    attempts = tuple(
        GenerationAttempt(
            seed=1000 + index,
            strength=0.9,
            steps=35,
            guidance=8.0,
            distance=distance,
            threshold=0.62,
            face_found=True,
            passed=distance > 0.62,
        )
        for index, distance in enumerate((0.4, 0.9))
    )
    synthetic68 = synthetic_landmarks(result, models.detector, models.landmarks)
    generated = GeneratedFace(
        identity_id="P1",
        attempts=attempts,
        chosen_index=1,
        image=face.image,
        placement=FacePlacement.from_arrays(
            track_id=track.id,
            frame_index=0,
            image_to_frame=placement.crop_to_frame_matrix(),
            landmarks68=synthetic68,
            box=track.boxes[0],
            landmarks5=track.landmarks5[0],
        ),
        needs_attention=False,
        prompt="a stand-in",
        device="cpu (fp32)",
    )
    return face, generated


def test_project_glue_stores_one_face_per_person_and_animates_it(
    models, manager: ModelManager, donors, tmp_path: Path
) -> None:
    video = fixture_video("lp_d18.mp4")
    frames = read_frames(video, 12)
    project = analysed_project(models, frames, video)
    identity = project.identities[0]

    # Without the diffusion weights: a reason that says what to download, no error.
    generated, reasons = generate_missing_faces(project, manager, models)
    assert generated == [] and list(reasons) == ["P1"]
    assert "models download realistic-vision-v5" in reasons["P1"]
    assert build_face_source(project, manager, models) is None
    assert not project.images and not identity.attempts

    face, run = stand_in_generation(models, donors["P1"], frames[0], project.tracks[0])
    np.testing.assert_allclose(
        run.placement.landmarks68_array(), face.landmarks68, atol=0.05 * face.image.shape[0]
    )
    command = RecordGeneration(run)
    command.redo(project)
    assert command.image_key == "P1-attempt-1" and identity.selected_attempt == 1
    assert [a.image_key for a in identity.attempts] == [None, "P1-attempt-1"]  # rejected: none
    assert identity.attempts[1].placement == run.placement

    save_project(project, tmp_path / "p.anonproj")
    loaded = load_project(tmp_path / "p.anonproj")
    assert generate_missing_faces(loaded, manager, models) == ([], {})  # nothing to generate
    stored = synthetic_keyframe(loaded, loaded.identities[0])
    assert stored is not None and np.array_equal(stored.image, face.image)

    source = build_face_source(loaded, manager, models)
    assert source is not None and source.is_fallback and source.identities == ("P1",)
    plan = synthetic_plan(
        {"P1": [TrackGeometry(t.frames, t.boxes, t.landmarks5) for t in loaded.tracks.values()]}
    )
    outputs, redactor = redact(frames, plan, source)
    assert redactor.log.failure_count == 0
    box = project.tracks[0].boxes[6]
    x0, y0, x1, y1 = (int(v) for v in box)
    assert np.abs(outputs[6][y0:y1, x0:x1].astype(int) - frames[6][y0:y1, x0:x1]).mean() > 10

    loaded.identities[0].needs_attention = True  # a face that failed the anonymity check
    assert build_face_source(loaded, manager, models) is None
    assert generate_missing_faces(loaded, manager, models) == ([], {"P1": NEEDS_ATTENTION})

    command.undo(project)
    assert identity.attempts == [] and identity.selected_attempt is None and not project.images
