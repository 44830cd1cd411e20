"""`anonnet-studio export` honours the hand corrections saved in a project: a face added
by hand is hidden (and counted by the leak check), a region is redacted over its range,
and the audit report lists them with the review state."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from anonnet_studio.cli import main
from anonnet_studio.core.correction.propagation import propagate_box
from anonnet_studio.core.media.reader import VideoReader
from anonnet_studio.core.models.manager import ModelManager
from anonnet_studio.core.vision.factory import build_embedded_vision
from anonnet_studio.project.commands import (
    AddManualTrack,
    AddRegion,
    ApplyPropagation,
    CommandStack,
    DeleteTrack,
    SetReviewed,
)
from anonnet_studio.project.io import load_project, save_project
from anonnet_studio.project.review import review_queue
from tests.conftest import fixture_video
from tests.media_factory import decode_rgb, make_montage

CLIP_FRAMES = 45


@pytest.mark.slow
def test_export_renders_and_reports_the_hand_corrections(tmp_path: Path, capsys) -> None:
    clip = tmp_path / "two_shots.mp4"
    make_montage(
        [fixture_video("lp_d18.mp4"), fixture_video("lp_d3.mp4")], clip,
        size=(480, 480), max_frames_per_clip=CLIP_FRAMES,
    )  # fmt: skip
    path = tmp_path / "p.anonproj"
    assert main(["analyze", str(clip), "-o", str(path), "-q"]) == 0
    stack = CommandStack(load_project(path))
    project = stack.project
    # The analysis "missed" the woman of the second shot: delete her, then add her by hand.
    missed = [t.id for t in project.tracks.values() if t.shot_index == 1]
    for track_id in missed:
        stack.push(DeleteTrack(track_id))
    vision = build_embedded_vision(
        ModelManager.from_environment(models_dir=tmp_path / "m", offline=True).resolve
    )
    seed = 60
    with VideoReader(clip) as reader:
        (face,) = vision.detector.detect(reader.frame_at(seed))
        add = AddManualTrack(seed, face.box, rng=random.Random(3))
        stack.push(add)
        followed = propagate_box(
            reader, seed, face.box, (CLIP_FRAMES, 2 * CLIP_FRAMES), vision.detector,
            vision.embedder,
        )  # fmt: skip
    stack.push(
        ApplyPropagation(
            add.track_id, followed.frames, followed.boxes, followed.landmarks5,
            followed.scores, followed.embedding,
        )
    )  # fmt: skip
    stack.push(AddRegion((60, 380, 420, 450), 10, 31, name="Name tag", method="fill"))
    first_item = review_queue(project)[0]
    stack.push(SetReviewed([first_item.key], True))
    save_project(project, path)

    out, report_path = tmp_path / "out.mp4", tmp_path / "report.json"
    code = main(["export", str(path), "-o", str(out), "--report", str(report_path), "-q"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Hand corrections: 1 hand-drawn face track(s), 1 region(s)" in printed
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["verdict"] == "PASS"
    corrections = report["corrections"]
    (manual,) = corrections["manual_tracks"]
    assert manual["frames"] == [[CLIP_FRAMES, 2 * CLIP_FRAMES - 1]]
    assert [f["track_id"] for f in corrections["removed_faces"]] == missed
    assert corrections["regions"][0]["frames"] == [[10, 30]]
    assert report["review"]["reviewed"] == 1 and report["review"]["items"] > 1
    # The face added by hand is a hidden person like any other: the leak check sampled her
    # and had to cover nothing in her shot, because her own track covered her.
    person = next(i for i in report["identities"] if i["id"] == manual["identity_id"])
    assert person["hidden"] and person["residual_reidentification"]["frames_sampled"] > 0
    assert not person["residual_reidentification"]["recognisable"]
    assert not [f for f in report["leak_frames"] if f >= CLIP_FRAMES]
    inside = (slice(390, 440), slice(70, 410))
    for index, (_, image) in enumerate(decode_rgb(out, 40)):
        filled = bool(np.all(np.abs(image[inside].astype(int) - 24) <= 6))
        assert filled == (10 <= index <= 30), index
    assert main(["report", str(path)]) == 0
    assert "1 of" in capsys.readouterr().out
