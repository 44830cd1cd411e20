"""Decode and face detection on a second thread, ahead of the analysis loop.

Decoding (PyAV) and YuNet (OpenCV) release the GIL, and nothing in them depends on the
tracker, so they can run one step ahead while the main loop embeds, tracks and samples
keyframes of earlier frames. The results are the same as in one thread: the same frames,
detected by the same network in the same order; only the waiting overlaps.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from anonnet_studio.core.media.reader import DecodedFrame
from anonnet_studio.core.timing import StageClock
from anonnet_studio.core.vision.types import FaceDetection, FaceDetector

_DEPTH = 8  # frames decoded ahead at most (memory: 8 small frames)
_POLL_S = 0.1  # how often a blocked producer checks whether the consumer left


@dataclass(frozen=True, slots=True)
class DetectedFrame:
    frame: DecodedFrame
    detections: list[FaceDetection] | None  # None on frames the detector skips


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


def detect_ahead(
    frames: Iterator[DecodedFrame],
    detector: FaceDetector,
    stride: int,
    clock: StageClock,
) -> Iterator[DetectedFrame]:
    """Yield every frame of `frames` with the detections of every `stride`-th one.

    `clock` receives the producer's decode_s and detection_s (measured on its thread, so
    they overlap the consumer's stages). An error in decoding or detection is raised here,
    in the consumer; leaving the loop early (break, exception, cancel) stops the producer
    before this generator returns.
    """
    handoff: queue.Queue[object] = queue.Queue(maxsize=_DEPTH)
    stop = threading.Event()
    producer_clock = StageClock()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        cpu_started = time.thread_time()
        try:
            for frame in producer_clock.timed_iter("decode_s", frames):
                detections = None
                if frame.index % stride == 0:
                    with producer_clock("detection_s"):
                        detections = detector.detect(frame.image)
                if not put(DetectedFrame(frame, detections)):
                    return
            put(_END)
        except BaseException as exc:  # handed to the consumer, which raises it
            put(_Failed(exc))
        finally:
            # This thread's CPU time: with the main loop's, the critical path on 2 cores.
            producer_clock.add("detect_ahead_thread_cpu_s", time.thread_time() - cpu_started)
            close = getattr(frames, "close", None)
            if close is not None:
                close()  # the decoder is closed on the thread that used it

    thread = threading.Thread(target=produce, name="analysis-decode-detect", daemon=True)
    thread.start()
    try:
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            assert isinstance(item, DetectedFrame)
            yield item
    finally:
        stop.set()
        thread.join()
        for stage, seconds in producer_clock.totals.items():
            clock.add(stage, seconds)
