"""Video -> shots, face tracks, people, keyframes and attributes, in one decode pass.

Per decoded (downscaled) frame: the shot detector always runs; the face detector runs on
every `detection_stride`-th frame and the tracker links detections; identity embeddings
and keyframe candidates (68 landmarks + head pose) are sampled along each track. After
the pass, tracks are split at cuts, densified and smoothed, clustered into people, and
each person's best keyframes are decoded at full resolution for attributes. Decoding and
face detection run one step ahead on a second thread (`detect_ahead`), so `timings_s`
stages overlap: decode_s and detection_s are that thread's, waiting_for_detection_s is
how long the main loop waited for it.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from anonnet_studio.core.analysis.attributes import estimate_identity_attributes
from anonnet_studio.core.analysis.clustering import (
    TrackForClustering,
    cluster_tracks,
    representative_embedding,
)
from anonnet_studio.core.analysis.detect_ahead import detect_ahead
from anonnet_studio.core.analysis.keyframes import KeyframeCandidate, best_candidate
from anonnet_studio.core.analysis.result import (
    AnalysedIdentity,
    AnalysedKeyframe,
    AnalysedTrack,
    AnalysisResult,
)
from anonnet_studio.core.analysis.sampling import TrackSampler
from anonnet_studio.core.analysis.shots import ShotDetector
from anonnet_studio.core.analysis.thumbnails import face_thumbnail
from anonnet_studio.core.analysis.tracking import (
    FaceTracker,
    RawTrack,
    densify,
    split_at_cuts,
    stitch_fragments,
)
from anonnet_studio.core.media.reader import VideoReader
from anonnet_studio.core.progress import (
    CancelToken,
    Progress,
    ProgressCallback,
    ProgressThrottle,
    check_cancel,
)
from anonnet_studio.core.timing import StageClock
from anonnet_studio.core.vision.factory import VisionModels
from anonnet_studio.core.vision.types import FaceDetection


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    detect_max_side: int = 640  # detection/embedding run on frames downscaled to this
    detection_stride: int = 2  # detector on every Nth frame; tracks interpolate between
    embedding_interval: int = 8  # frames between identity-embedding samples of a track
    keyframe_interval: int = 6  # frames between keyframe candidates of a track
    max_gap_seconds: float = 0.5  # detection gaps up to this are bridged within a track
    min_track_observations: int = 2  # single-frame blips are dropped unless confident
    single_frame_min_score: float = 0.85
    attribute_keyframes: int = 3  # best keyframes per person used for attributes


def analyze_video(
    path: Path,
    models: VisionModels,
    settings: AnalysisSettings | None = None,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> AnalysisResult:
    """Analyse a video file. Raises the media engine's typed errors for bad input."""
    # The analysis already keeps two cores busy (decode + detection on one thread, the
    # rest on this one, plus the decoder's threads); OpenCV's own pool on top of that
    # oversubscribes them: one OpenCV thread took 15 % less CPU for the same wall time.
    opencv_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        return _analyze(path, models, settings, on_progress, cancel)
    finally:
        cv2.setNumThreads(opencv_threads)


def _analyze(
    path: Path,
    models: VisionModels,
    settings: AnalysisSettings | None,
    on_progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> AnalysisResult:
    settings = settings or AnalysisSettings()
    report = ProgressThrottle(on_progress)
    clock = StageClock()  # exclusive seconds per stage, kept in the result's timings_s
    started = time.perf_counter()
    main_cpu_started = time.thread_time()

    with VideoReader(Path(path)) as reader:
        info = reader.info
        fps = float(info.video.fps) or 30.0
        frame_count = info.video.frame_count
        shot_detector = ShotDetector(info.video.fps)
        tracker = FaceTracker(
            max_gap_frames=max(settings.detection_stride, round(settings.max_gap_seconds * fps)),
            embedding_threshold=models.embedder.threshold,
        )
        sampler = TrackSampler(models, settings, clock)
        full_size = (info.video.width, info.video.height)
        scale = 1.0
        frames = reader.iter_frames(max_side=settings.detect_max_side)
        detected = detect_ahead(frames, models.detector, settings.detection_stride, clock)
        for item in clock.timed_iter("waiting_for_detection_s", detected):
            check_cancel(cancel)
            frame, detections = item.frame, item.detections
            with clock("shots_s"):
                shot_detector.push(frame.index, frame.image)
            if detections is not None:
                scale = info.video.width / frame.image.shape[1]
                embeddings = sampler.embeddings_before_association(frame, detections)
                with clock("tracking_s"):
                    track_ids = tracker.update(
                        frame.index, detections, embeddings, sampler.qualities(detections)
                    )
                sampler.after_association(frame, detections, track_ids, tracker, full_size)
            report(Progress("Analysing frames", frame.index + 1, frame_count))

        with clock("tracking_s"):
            shots = shot_detector.shots(max(frame_count, 0) or None)
            raw_tracks = _keep_plausible(tracker.finish(), settings)
            tracks = _finalise_tracks(
                raw_tracks,
                shots,
                sampler,
                scale,
                reader,
                models,
                tracker.max_gap_frames,
                settings.detection_stride,
                clock,
            )

        check_cancel(cancel)
        with clock("clustering_s"):
            groups = cluster_tracks(
                [
                    TrackForClustering(
                        t.id,
                        t.embedding,
                        int(t.frames[0]),
                        int(t.frames[-1]),
                        frozenset(t.frames.tolist()),
                        weight=float(len(t.frames)),
                    )
                    for t in tracks
                ],
                threshold=models.embedder.threshold,
            )

        by_id = {t.id: t for t in tracks}
        identities = []
        for number, group in enumerate(groups, start=1):
            check_cancel(cancel)
            report(Progress("Estimating attributes", number - 1, len(groups)))
            members = [by_id[i] for i in group]
            with clock("attributes_s"):
                identities.append(_build_identity(members, reader, models, settings))
        report(Progress("Estimating attributes", len(groups), len(groups)))
    timings = dict(clock.totals)
    timings["main_thread_cpu_s"] = time.thread_time() - main_cpu_started
    timings["total_s"] = time.perf_counter() - started

    return AnalysisResult(
        media_info=info.to_json_dict(),
        shots=shots,
        tracks=tracks,
        identities=identities,
        models=models.describe(),
        settings=asdict(settings),
        timings_s=timings,
    )


def _keep_plausible(tracks: list[RawTrack], settings: AnalysisSettings) -> list[RawTrack]:
    return [
        t
        for t in tracks
        if len(t.frames) >= settings.min_track_observations
        or max(t.scores) >= settings.single_frame_min_score
    ]


def _finalise_tracks(
    raw_tracks: list[RawTrack],
    shots: list[tuple[int, int]],
    sampler: TrackSampler,
    scale: float,
    reader: VideoReader,
    models: VisionModels,
    max_gap_frames: int,
    stride: int,
    clock: StageClock,
) -> list[AnalysedTrack]:
    """Split at cuts, densify, smooth, scale to full-frame pixels, attach embedding and
    keyframe. Ids are renumbered 0..N-1 in order of appearance."""
    per_shot: dict[int, list[RawTrack]] = {}
    for raw in raw_tracks:
        for piece in split_at_cuts(raw, shots):
            shot_index = next(i for i, (s, e) in enumerate(shots) if s <= piece.frames[0] < e)
            per_shot.setdefault(shot_index, []).append(piece)

    full_frame_embeddings: dict[tuple[int, int], np.ndarray] = {}

    def embedding_of(piece: RawTrack) -> np.ndarray:
        mean = piece.mean_embedding()
        if mean is not None:
            return mean
        key = (piece.id, piece.frames[0])
        if key not in full_frame_embeddings:  # too short to have been sampled
            with clock("embedding_s"):
                full_frame_embeddings[key] = _embed_full_frame(reader, models, scale, piece)
        return full_frame_embeddings[key]

    pieces: list[tuple[int, RawTrack]] = []
    for shot_index, shot_pieces in per_shot.items():
        stitched = stitch_fragments(
            shot_pieces,
            embedding_of,
            max_gap_frames=max_gap_frames,
            embedding_threshold=models.embedder.threshold,
        )
        pieces += [(shot_index, piece) for piece in stitched]
    pieces.sort(key=lambda item: (item[1].frames[0], item[1].id))

    tracks = []
    for new_id, (shot_index, piece) in enumerate(pieces):
        start, end = shots[shot_index]
        dense = densify(piece, extend=stride - 1, bounds=(start, end - 1))
        candidates = sampler.candidates_between(piece.source_ids, dense.frames[0], dense.frames[-1])
        chosen = best_candidate(candidates)
        keyframe = None
        if chosen is not None:
            candidate, score = chosen
            keyframe = AnalysedKeyframe(
                candidate.frame_index, candidate.pose, candidate.landmarks68, score
            )
        embedding = embedding_of(piece)
        tracks.append(
            AnalysedTrack(
                id=new_id,
                shot_index=shot_index,
                frames=dense.frames,
                boxes=(dense.boxes * scale).astype(np.float32),
                landmarks5=(dense.landmarks5 * scale).astype(np.float32),
                scores=dense.scores,
                interpolated=dense.interpolated,
                embedding=embedding.astype(np.float32),
                keyframe=keyframe,
            )
        )
    return tracks


def _embed_full_frame(
    reader: VideoReader, models: VisionModels, scale: float, piece: RawTrack
) -> np.ndarray:
    best = int(np.argmax(piece.scores))
    frame_index = piece.frames[best]
    image = reader.frame_at(frame_index)
    detection = FaceDetection(
        box=piece.boxes[best] * scale, landmarks5=piece.landmarks5[best] * scale,
        score=piece.scores[best],
    )  # fmt: skip
    return models.embedder.embed(image, detection)


def _build_identity(
    members: list[AnalysedTrack],
    reader: VideoReader,
    models: VisionModels,
    settings: AnalysisSettings,
) -> AnalysedIdentity:
    embedding = representative_embedding(
        [t.embedding for t in members], [float(len(t.frames)) for t in members]
    )
    keyframed = sorted(
        (t for t in members if t.keyframe is not None),
        key=lambda t: t.keyframe.score if t.keyframe else 0.0,
        reverse=True,
    )[: settings.attribute_keyframes]
    if not keyframed:  # no usable keyframe: fall back to the longest track's middle frame
        keyframed = [max(members, key=lambda t: len(t.frames))]
    views = []
    for track in keyframed:
        frame_index = (
            track.keyframe.frame_index
            if track.keyframe
            else int(track.frames[len(track.frames) // 2])
        )
        i = int(frame_index - track.frames[0])
        detection = FaceDetection(
            box=track.boxes[i], landmarks5=track.landmarks5[i], score=float(track.scores[i])
        )
        views.append((reader.frame_at(frame_index), detection))
    attributes = estimate_identity_attributes(models.attributes, views)
    thumbnail = face_thumbnail(views[0][0], views[0][1].box)
    return AnalysedIdentity(
        track_ids=tuple(t.id for t in members),
        embedding=embedding,
        thumbnail=thumbnail,
        attributes=attributes,
    )


__all__ = ["AnalysisSettings", "KeyframeCandidate", "analyze_video"]
