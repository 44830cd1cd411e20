"""End-to-end rendering on real footage: the analysis' tracks drive the masks, the output
is checked with the embedded detector and SFace against the original faces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anonnet_studio.core.anonymize.plan import regions_at
from anonnet_studio.core.anonymize.renderer import render
from anonnet_studio.core.errors import OperationCancelled
from anonnet_studio.core.progress import CancelToken, Progress
from anonnet_studio.core.vision.factory import VisionModels
from anonnet_studio.core.vision.types import cosine_distance
from tests.core.anonymize.conftest import AnalysedClip
from tests.core.anonymize.helpers import (
    box_crop,
    faces_left_to_right,
    frames_of,
    people_by_side,
    plan_with,
    psnr,
    stream_facts,
    verification_distance,
    with_method,
)

CHECK_EVERY = 4  # frames between verification checks (SFace costs ~50 ms per face)
# Near-lossless encoding where kept faces are compared: at the default crf 18 the codec
# alone costs about 40 dB on these faces, and the test is about what the renderer changes.
KEPT_CHECK_CRF = 10


def _assert_hidden_and_kept(
    vision: VisionModels,
    source: Path,
    output: Path,
    hidden_sides: set[int],
    kept_sides: set[int],
) -> None:
    originals, rendered = frames_of(source), frames_of(output)
    assert len(rendered) == len(originals)
    checked = 0
    for index in range(0, len(originals), CHECK_EVERY):
        faces = faces_left_to_right(vision, originals[index])
        assert len(faces) == 2, f"the two-shot should show two faces in frame {index}"
        for side in hidden_sides:
            distance = verification_distance(vision, originals[index], rendered[index], faces[side])
            assert distance > vision.embedder.threshold, (index, side, distance)
        for side in kept_sides:
            box = faces[side].box
            quality = psnr(box_crop(originals[index], box), box_crop(rendered[index], box))
            assert quality > 40.0, (index, side, quality)
        checked += 1
    assert checked >= len(originals) // CHECK_EVERY


def test_blurred_person_is_unrecognisable_and_kept_person_unchanged(
    two_shot: AnalysedClip, vision: VisionModels, tmp_path: Path
) -> None:
    left, right = people_by_side(two_shot.analysis)
    plan = plan_with([with_method(left, "blur"), with_method(right, "keep")], crf=KEPT_CHECK_CRF)
    dest = tmp_path / "blurred.mp4"
    progress: list[Progress] = []

    result = render(two_shot.path, dest, plan, vision, on_progress=progress.append)

    source_facts, output_facts = stream_facts(two_shot.path), stream_facts(dest)
    assert result.frames_written == output_facts["frames"] == source_facts["frames"]
    assert output_facts["video_s"] == pytest.approx(source_facts["video_s"], abs=1e-3)
    assert progress[-1].stage == "Rendering" and progress[-1].done == progress[-1].total
    _assert_hidden_and_kept(vision, two_shot.path, dest, hidden_sides={0}, kept_sides={1})
    assert result.leaks == []
    stats = result.residual[left.identity_id]
    assert stats.embedder == vision.embedder.name and stats.threshold == vision.embedder.threshold
    assert stats.frames_sampled >= len(frames_of(two_shot.path)) // plan.residual_stride
    assert not stats.reidentified
    assert right.identity_id not in result.residual


def test_pixelate_and_mask_hide_their_people(
    two_shot: AnalysedClip, vision: VisionModels, tmp_path: Path
) -> None:
    left, right = people_by_side(two_shot.analysis)
    plan = plan_with(
        [with_method(left, "pixelate"), with_method(right, "mask", mask_color=(0, 200, 0))]
    )
    dest = tmp_path / "pixelate_mask.mp4"
    render(two_shot.path, dest, plan, vision)
    _assert_hidden_and_kept(vision, two_shot.path, dest, hidden_sides={0, 1}, kept_sides=set())
    # The solid mask really is the chosen colour at the face centre.
    frame = frames_of(dest)[20]
    centre = regions_at(plan, 20)[1].ellipse
    pixel = frame[int(centre.cy), int(centre.cx)].astype(int)
    assert np.abs(pixel - [0, 200, 0]).max() < 12


def test_face_missing_from_the_plan_is_caught_by_the_leak_check(
    two_shot: AnalysedClip, vision: VisionModels, tmp_path: Path
) -> None:
    """Only the left person is planned; under "hide everyone" the right person's face is
    found in the rendered frames and covered, so no output frame shows a face uncovered."""
    left, right = people_by_side(two_shot.analysis)
    plan = plan_with([with_method(left, "blur")], hide_everyone_else=True)
    dest = tmp_path / "leak.mp4"

    result = render(two_shot.path, dest, plan, vision)

    frame_count = len(frames_of(two_shot.path))
    assert len({leak.frame_index for leak in result.leaks}) >= 0.8 * frame_count
    assert all(leak.matched_identity is None for leak in result.leaks)
    assert all(leak.box[0] >= 300 for leak in result.leaks)  # the right half's face
    originals, rendered = frames_of(two_shot.path), frames_of(dest)
    for index, image in enumerate(rendered):
        for face in vision.detector.detect(image):
            # Anything still detected must be a covered face, not a recognisable one.
            embedding = vision.embedder.embed(image, face)
            for reference in (left.embedding, right.embedding):
                assert cosine_distance(embedding, reference) > vision.embedder.threshold
        if index % CHECK_EVERY == 0:
            faces = faces_left_to_right(vision, originals[index])
            for face in faces:
                distance = verification_distance(vision, originals[index], image, face)
                assert distance > vision.embedder.threshold, (index, distance)


def test_hidden_person_without_geometry_is_caught_by_identity(
    two_shot: AnalysedClip, vision: VisionModels, tmp_path: Path
) -> None:
    """The right person is hidden but the plan has no track for her (as if the analysis
    had lost her). With "hide everyone" off, only her identity embedding can catch her."""
    left, right = people_by_side(two_shot.analysis)
    plan = plan_with(
        [with_method(left, "keep"), with_method(right, "blur", tracks=[])],
        hide_everyone_else=False,
    )
    dest = tmp_path / "identity_leak.mp4"

    result = render(two_shot.path, dest, plan, vision)

    matched = [leak for leak in result.leaks if leak.matched_identity == right.identity_id]
    frame_count = len(frames_of(two_shot.path))
    assert len({leak.frame_index for leak in matched}) >= 0.8 * frame_count
    assert all(leak.distance is not None and leak.distance < vision.embedder.threshold
               for leak in matched)  # fmt: skip
    assert not any(leak.matched_identity == left.identity_id for leak in result.leaks)
    originals, rendered = frames_of(two_shot.path), frames_of(dest)
    for index in range(0, frame_count, CHECK_EVERY):
        right_face = faces_left_to_right(vision, originals[index])[1]
        distance = verification_distance(vision, originals[index], rendered[index], right_face)
        assert distance > vision.embedder.threshold, (index, distance)


def test_without_hide_everyone_an_unplanned_stranger_is_left_alone(
    two_shot: AnalysedClip, vision: VisionModels, tmp_path: Path
) -> None:
    left, _ = people_by_side(two_shot.analysis)
    plan = plan_with([with_method(left, "blur")], hide_everyone_else=False, crf=KEPT_CHECK_CRF)
    dest = tmp_path / "policy_off.mp4"
    result = render(two_shot.path, dest, plan, vision)
    assert result.leaks == []
    _assert_hidden_and_kept(vision, two_shot.path, dest, hidden_sides={0}, kept_sides={1})


def test_audio_frame_count_and_duration_are_preserved(
    talk: AnalysedClip, vision: VisionModels, tmp_path: Path
) -> None:
    (person,) = people_by_side(talk.analysis)
    dest = tmp_path / "talk_blurred.mp4"
    render(talk.path, dest, plan_with([person]), vision)
    source, output = stream_facts(talk.path), stream_facts(dest)
    assert output["frames"] == source["frames"]
    assert output["video_s"] == pytest.approx(source["video_s"], abs=1e-3)
    assert source["audio_s"] > 1.0
    assert output["audio_s"] == pytest.approx(source["audio_s"], abs=0.05)


def test_cancelling_mid_render_leaves_no_file(
    talk: AnalysedClip, vision: VisionModels, tmp_path: Path
) -> None:
    (person,) = people_by_side(talk.analysis)
    token = CancelToken()
    seen: list[int] = []
    cancelled_at: list[int] = []

    def cancel_after_ten(progress: Progress) -> None:
        # Progress is throttled, so the first report at or past frame 10 may come later;
        # what matters is that nothing is rendered after the cancel.
        seen.append(progress.done)
        if progress.done >= 10 and not cancelled_at:
            cancelled_at.append(progress.done)
            token.cancel()

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(OperationCancelled):
        render(
            talk.path,
            out_dir / "cancelled.mp4",
            plan_with([person]),
            vision,
            on_progress=cancel_after_ten,
            cancel=token,
        )
    assert max(seen) <= cancelled_at[0]  # stopped at the next frame boundary
    assert list(out_dir.iterdir()) == []  # neither the output nor a temp file
