"""`AnimatedFaceSource`: the synthetic stage as the renderer sees it (`SyntheticFaceSource`).

Each hidden person has ONE synthetic identity: the chosen generated keyframe face, made
once and reused in every shot. It is animated per track, independently for every person
in a frame, by a motion backend: LivePortrait when its weights are installed, else the
embedded landmark warp (`fallback_warp`, labelled lower quality). The animated face is
colour-matched to the frame and returned for the renderer's face-shaped mask.

Driving data (LivePortrait motion, or 68 landmarks) is measured per track from the source
video and smoothed without lag, so it needs the whole track: `prepare()` measures every
track in one decoding pass with progress and cancel; a track not prepared is measured on
its first frame. `face_patch` returns None when a person has no synthetic face or tracking
failed for a frame; the renderer then redacts that face, so nothing leaks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np

from anonnet_studio.core.anonymize.masks import SoftMask
from anonnet_studio.core.anonymize.plan import Region, TrackGeometry
from anonnet_studio.core.motion.composite import (
    AnimatedPatch,
    ColourMatcher,
    Window,
    affine_coverage,
    mask_window,
    warp_into_window,
    with_frame_outside_coverage,
)
from anonnet_studio.core.motion.driving import (
    LIVEPORTRAIT_VY,
    FrameSource,
    LandmarkSeries,
    LandmarkSeriesBuilder,
    TrackCrops,
    face_crop,
    region_track,
    track_row,
    track_spans,
)
from anonnet_studio.core.progress import (
    CancelToken,
    Progress,
    ProgressCallback,
    ProgressThrottle,
    check_cancel,
)
from anonnet_studio.core.vision.types import LandmarkPredictor

if TYPE_CHECKING:
    # torch and the networks load only when LivePortrait is used (the fallback needs neither).
    from anonnet_studio.core.motion.liveportrait import (
        LivePortraitAnimator,
        MotionParams,
        SourceState,
    )

PREPARE_STAGE = "Reading facial motion"
TrackKey = tuple[str, int, int, int]  # identity, first frame, last frame, rows


@dataclass(frozen=True, slots=True, eq=False)
class SyntheticKeyframe:
    """One person's synthetic identity: the generated face at their keyframe."""

    identity_id: str
    image: np.ndarray  # RGB uint8 crop holding the synthetic face (and its surroundings)
    landmarks68: np.ndarray  # (68, 2) the synthetic face's own landmarks, image pixels
    image_to_frame: np.ndarray  # 2x3 affine, image pixels -> keyframe frame pixels
    frame_index: int  # the keyframe in the source video
    box: np.ndarray  # (4,) the original face's track box at the keyframe, frame pixels
    landmarks5: np.ndarray  # (5, 2) the original face's track landmarks at the keyframe


class TrackMeasurer(Protocol):
    """Collects a backend's driving data for one track, one frame at a time."""

    def add(self, row: int, frame: np.ndarray) -> None: ...

    def finish(self) -> Any:
        """The track's driving data for `MotionBackend.render`, or None if it failed."""
        ...


class MotionBackend(Protocol):
    """How a synthetic face is animated (LivePortrait, landmark warp)."""

    name: str
    is_fallback: bool
    needs_reference_frame: bool  # prepare_face needs the original keyframe

    def prepare_face(self, face: SyntheticKeyframe, reference_frame: np.ndarray | None) -> Any:
        """Per-person state (e.g. the source appearance), computed once."""
        ...

    def measurer(self, track: TrackGeometry) -> TrackMeasurer: ...

    def render(self, face: Any, driving: Any, row: int, window: Window) -> AnimatedPatch | None:
        """The animated face for track row `row` in the frame `window`, or None when the
        driving data of that row failed."""
        ...


class AnimatedFaceSource:
    """Animated synthetic faces for the renderer, one identity per hidden person."""

    def __init__(
        self,
        faces: Mapping[str, SyntheticKeyframe],
        backend: MotionBackend,
        video: FrameSource,
        *,
        tracks: Mapping[str, Sequence[TrackGeometry]] | None = None,
        colour_match: bool = True,
    ) -> None:
        """`faces` by identity id; `tracks` (by identity id) are the ones `prepare()`
        measures up front; `video` is the source the tracks were analysed on."""
        self._faces = dict(faces)
        self._backend = backend
        self._video = video
        self._tracks = {k: list(v) for k, v in (tracks or {}).items() if k in self._faces}
        self._colour = ColourMatcher() if colour_match else None
        self._face_states: dict[str, Any] = {}
        self._driving: dict[TrackKey, Any] = {}

    @property
    def backend_name(self) -> str:
        """The motion backend, as shown to the user."""
        return self._backend.name

    @property
    def is_fallback(self) -> bool:
        """True for the embedded landmark warp (lower quality than LivePortrait)."""
        return self._backend.is_fallback

    @property
    def identities(self) -> tuple[str, ...]:
        """Identity ids this source has a synthetic face for."""
        return tuple(self._faces)

    def prepare(
        self, *, on_progress: ProgressCallback | None = None, cancel: CancelToken | None = None
    ) -> None:
        """Prepare every face and measure every known track in one pass over the video."""
        for identity_id in self._faces:
            check_cancel(cancel)
            self._face_state(identity_id)
        pending = [
            (_track_key(identity_id, track), track)
            for identity_id, tracks in self._tracks.items()
            for track in tracks
            if _track_key(identity_id, track) not in self._driving
        ]
        self._measure(pending, on_progress, cancel)

    def face_patch(self, frame: np.ndarray, region: Region, mask: SoftMask) -> np.ndarray | None:
        """The animated synthetic face over `mask`'s window, or None (then the renderer
        redacts the face) when this person has none or tracking failed in this frame."""
        identity_id = region.identity_id
        if identity_id not in self._faces or mask.empty:
            return None
        track = region_track(region)
        if track is None:
            return None
        key = _track_key(identity_id, track)
        if key not in self._driving:
            try:
                self._measure([(key, track)], None, None)
            except Exception:
                self._driving[key] = None  # redact the rest of the track, not retry per frame
                raise
        driving = self._driving[key]
        if driving is None:
            return None
        window = mask_window(mask)
        row = track_row(track, region.frame_index)
        patch = self._backend.render(self._face_state(identity_id), driving, row, window)
        if patch is None:
            return None
        original = frame[mask.slices]
        rgb = patch.rgb
        if self._colour is not None:
            rgb = self._colour.match(key, rgb, original, mask, patch.coverage)
        return with_frame_outside_coverage(AnimatedPatch(rgb, patch.coverage), original)

    def close(self) -> None:
        """Release the source video (the source can still be used; it reopens it)."""
        close = getattr(self._video, "close", None)
        if close is not None:
            close()

    # --- internals -------------------------------------------------------------------------

    def _face_state(self, identity_id: str) -> Any:
        state = self._face_states.get(identity_id)
        if state is None:
            face = self._faces[identity_id]
            reference = None
            if self._backend.needs_reference_frame:
                reference = self._video.frame(face.frame_index)
            state = self._backend.prepare_face(face, reference)
            self._face_states[identity_id] = state
        return state

    def _measure(
        self,
        jobs: list[tuple[TrackKey, TrackGeometry]],
        on_progress: ProgressCallback | None,
        cancel: CancelToken | None,
    ) -> None:
        """Measure the tracks' driving data, decoding each stretch of video that holds
        tracks once (far-apart stretches are reached by seeking, not decoding)."""
        measurers = [(key, track, self._backend.measurer(track)) for key, track in jobs]
        spans = track_spans([track for _, track, _ in measurers])
        total = sum(end - start for start, end in spans)
        report = ProgressThrottle(on_progress)
        done = 0
        report(Progress(PREPARE_STAGE, done, total))
        for start, end in spans:
            for index, image in self._video.frames(start, end):
                check_cancel(cancel)
                for _, track, measurer in measurers:
                    row = int(np.searchsorted(track.frames, index))
                    if row < len(track.frames) and int(track.frames[row]) == index:
                        measurer.add(row, image)
                report(Progress(PREPARE_STAGE, done + index + 1 - start, total))
            done += end - start
        for key, _, measurer in measurers:
            self._driving[key] = measurer.finish()


def _track_key(identity_id: str, track: TrackGeometry) -> TrackKey:
    return identity_id, int(track.frames[0]), int(track.frames[-1]), len(track.frames)


# --- LivePortrait ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MotionOptions:
    """Options of the LivePortrait backend."""

    smoothing_sigma: float = 1.0  # Gaussian smoothing of the driving motion, in frames
    retarget_eyes: bool = False  # drive eye openness from the original's 68 landmarks
    retarget_lips: bool = False  # drive mouth openness from the original's 68 landmarks
    motion_batch_size: int = 8


@dataclass(frozen=True, slots=True, eq=False)
class LivePortraitFace:
    source: SourceState  # the synthetic face crop's appearance and keypoints
    reference: MotionParams  # the original face at the keyframe (d0)
    coverage: np.ndarray | None  # of the source crop by the synthetic image (AnimatedPatch)


@dataclass(frozen=True, slots=True)
class LivePortraitDriving:
    crops: TrackCrops
    motion: MotionParams  # one row per track row, smoothed
    landmarks: LandmarkSeries | None  # for eye/lip retargeting


class LivePortraitBackend:
    """Relative LivePortrait motion: the synthetic keyframe face is posed with the change
    of the original face since the keyframe (R = R_d R_d0^T R_s, exp = exp_s + exp_d -
    exp_d0), where d0 is the original at the keyframe, so the synthetic face, generated in
    place with the same pose, starts exactly where the original is."""

    name = "LivePortrait"
    is_fallback = False
    needs_reference_frame = True

    def __init__(
        self,
        animator: LivePortraitAnimator,
        landmarks: LandmarkPredictor | None = None,
        options: MotionOptions | None = None,
    ) -> None:
        """`landmarks` is only needed for eye/lip retargeting."""
        self.animator = animator
        self.landmarks = landmarks
        self.options = options or MotionOptions()

    def prepare_face(
        self, face: SyntheticKeyframe, reference_frame: np.ndarray | None
    ) -> LivePortraitFace:
        if reference_frame is None:
            raise ValueError("LivePortrait needs the original keyframe as its reference")
        crop = face_crop(face.box, face.landmarks5)
        # Synthetic image -> keyframe frame -> LivePortrait crop: the source crop frames the
        # synthetic face exactly as the reference crop frames the original.
        to_frame = np.vstack([face.image_to_frame, [0.0, 0.0, 1.0]])
        to_crop = np.vstack([crop.frame_to_crop(), [0.0, 0.0, 1.0]]) @ to_frame
        size = crop.dsize
        image = cv2.warpAffine(
            face.image,
            to_crop[:2],
            (size, size),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        points = face.landmarks68 @ to_crop[:2, :2].T + to_crop[:2, 2]
        return LivePortraitFace(
            source=self.animator.prepare_source(image, points),
            reference=self.animator.extract_motion(crop.extract(reference_frame)),
            coverage=_source_coverage(to_crop, face.image.shape, size),
        )

    def measurer(self, track: TrackGeometry) -> TrackMeasurer:
        return _LivePortraitMeasurer(self, track)

    def render(
        self, face: LivePortraitFace, driving: LivePortraitDriving, row: int, window: Window
    ) -> AnimatedPatch | None:
        from anonnet_studio.core.motion.liveportrait.animator import tensor_to_images
        from anonnet_studio.core.motion.liveportrait.retargeting import (
            eye_open_ratios_68,
            lip_open_ratio_68,
        )

        eye_ratio = lip_ratio = None
        points = driving.landmarks.at(row) if driving.landmarks is not None else None
        if points is not None and self.options.retarget_eyes:
            eye_ratio = float(np.mean(eye_open_ratios_68(points)))
        if points is not None and self.options.retarget_lips:
            lip_ratio = lip_open_ratio_68(points)
        kp = self.animator.final_keypoints(
            face.source,
            driving.motion[row],
            face.reference,
            eye_ratio=eye_ratio,
            lip_ratio=lip_ratio,
        )
        animated = tensor_to_images(self.animator.render_tensor(face.source, kp))[0]
        crop = driving.crops.at(row)
        rgb = warp_into_window(animated, crop.crop_to_frame(animated.shape[0]), window)
        coverage = None
        if face.coverage is not None:
            to_frame = crop.crop_to_frame(face.coverage.shape[0])
            coverage = warp_into_window(face.coverage, to_frame, window, replicate_border=False)
        return AnimatedPatch(rgb, coverage)

    @property
    def wants_landmarks(self) -> bool:
        retarget = self.options.retarget_eyes or self.options.retarget_lips
        return retarget and self.landmarks is not None


def _source_coverage(
    to_crop: np.ndarray, image_shape: tuple[int, ...], size: int
) -> np.ndarray | None:
    """`affine_coverage` of the LivePortrait source crop by the synthetic image, forced to 1
    on a disc over the face (which the crop puts 0.125 of its side below its centre)."""
    coverage = affine_coverage(to_crop, image_shape, size)
    if coverage is not None:
        centre = (round(size / 2), round(size / 2 - LIVEPORTRAIT_VY * size))
        cv2.circle(coverage, centre, round(0.3 * size), 1.0, thickness=-1)
    return coverage


class _LivePortraitMeasurer:
    """Driving crops -> batched motion extraction -> per-row, smoothed motion."""

    def __init__(self, backend: LivePortraitBackend, track: TrackGeometry) -> None:
        self._backend = backend
        self._animator = backend.animator
        self._crops = TrackCrops(track)
        self._rows = len(track.frames)
        predictor = backend.landmarks if backend.wants_landmarks else None
        self._landmarks = (
            LandmarkSeriesBuilder(track, predictor.landmarks68) if predictor is not None else None
        )
        self._measured: list[int] = []
        self._pending: list[np.ndarray] = []
        self._parts: list[MotionParams] = []

    def add(self, row: int, frame: np.ndarray) -> None:
        self._pending.append(self._crops.at(row).extract(frame))
        self._measured.append(row)
        if len(self._pending) >= self._backend.options.motion_batch_size:
            self._flush()
        if self._landmarks is not None:
            self._landmarks.add(row, frame)

    def _flush(self) -> None:
        if self._pending:
            self._parts.append(self._animator.extract_motion(np.stack(self._pending)))
            self._pending.clear()

    def finish(self) -> LivePortraitDriving | None:
        import torch

        from anonnet_studio.core.motion.liveportrait.keypoints import MotionParams
        from anonnet_studio.core.motion.liveportrait.smoothing import smooth_motion

        self._flush()
        if not self._parts:
            return None
        measured = MotionParams.concat(self._parts)
        # Rows the video did not deliver (a damaged tail) repeat the nearest measured row.
        rows = np.asarray(self._measured)
        nearest = np.abs(np.arange(self._rows)[:, None] - rows[None, :]).argmin(axis=1)
        index = torch.as_tensor(nearest, device=measured.kp.device)
        per_row = MotionParams(
            **{name: getattr(measured, name)[index] for name in MotionParams.__dataclass_fields__}
        )
        motion = smooth_motion(per_row, self._backend.options.smoothing_sigma)
        landmarks = self._landmarks.finish() if self._landmarks is not None else None
        return LivePortraitDriving(self._crops, motion, landmarks)
