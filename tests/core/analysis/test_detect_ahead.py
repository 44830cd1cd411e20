"""Decode + detection on a second thread: same items in order, errors raised in the
consumer, and a consumer that leaves early stops the producer."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

from anonnet_studio.core.analysis.detect_ahead import detect_ahead
from anonnet_studio.core.media.reader import DecodedFrame
from anonnet_studio.core.timing import StageClock
from anonnet_studio.core.vision.types import FaceDetection


class _CountingDetector:
    name = "counting"

    def __init__(self, fail_at: int | None = None) -> None:
        self.calls: list[int] = []
        self.fail_at = fail_at
        self.threads: set[str] = set()

    def detect(self, image: np.ndarray, *, max_side: int | None = None) -> list[FaceDetection]:
        index = int(image[0, 0, 0])
        self.threads.add(threading.current_thread().name)
        if index == self.fail_at:
            raise RuntimeError(f"detector broke at {index}")
        self.calls.append(index)
        box = np.array([index, 0, index + 10, 10], np.float32)
        return [FaceDetection(box, np.zeros((5, 2), np.float32), 0.9)]


def _frames(count: int, closed: list[bool]) -> Iterator[DecodedFrame]:
    try:
        for index in range(count):
            yield DecodedFrame(index, index, index / 30, np.full((4, 4, 3), index, np.uint8))
    finally:
        closed.append(True)


def test_every_frame_in_order_with_detections_on_the_stride() -> None:
    closed: list[bool] = []
    detector, clock = _CountingDetector(), StageClock()
    items = list(detect_ahead(_frames(25, closed), detector, 2, clock))
    assert [i.frame.index for i in items] == list(range(25))
    assert [i.frame.index for i in items if i.detections is not None] == list(range(0, 25, 2))
    assert all(i.detections[0].box[0] == i.frame.index for i in items if i.detections)
    assert detector.threads == {"analysis-decode-detect"}  # not the consumer's thread
    assert closed == [True]
    assert {"decode_s", "detection_s"} <= set(clock.totals)


def test_a_producer_error_is_raised_in_the_consumer() -> None:
    closed: list[bool] = []
    seen = []
    with pytest.raises(RuntimeError, match="broke at 6"):
        for item in detect_ahead(
            _frames(50, closed), _CountingDetector(fail_at=6), 2, StageClock()
        ):
            seen.append(item.frame.index)
    assert seen == list(range(6))
    assert closed == [True]


def test_leaving_early_stops_the_producer() -> None:
    closed: list[bool] = []
    detector = _CountingDetector()
    before = threading.active_count()
    items = detect_ahead(_frames(10_000, closed), detector, 1, StageClock())
    for item in items:
        if item.frame.index == 3:
            break
    items.close()  # what a `for` loop's exit does to a generator it was given
    assert closed == [True]
    assert threading.active_count() == before
    assert len(detector.calls) < 100  # it stopped a few frames ahead, not at the end


def test_analysis_runs_opencv_single_threaded_and_restores_it() -> None:
    import cv2

    from anonnet_studio.core.analysis.pipeline import analyze_video
    from anonnet_studio.core.vision.factory import VisionModels
    from tests.conftest import fixture_video

    seen: list[int] = []

    class _Broken:
        name = "broken"
        threshold = 0.5

        def detect(self, image: np.ndarray, *, max_side: int | None = None) -> list:
            seen.append(cv2.getNumThreads())
            raise RuntimeError("stop here")

    before = cv2.getNumThreads()
    cv2.setNumThreads(2)
    try:
        models = VisionModels(_Broken(), _Broken(), _Broken(), ())  # type: ignore[arg-type]
        with pytest.raises(RuntimeError, match="stop here"):
            analyze_video(fixture_video("lia_vox2.mp4"), models)
        assert seen == [1]
        assert cv2.getNumThreads() == 2
    finally:
        cv2.setNumThreads(before)
