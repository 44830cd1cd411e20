"""Stand-in synthetic faces for end-to-end tests of the synthetic-face service.

Tiny random-weight diffusion models paint no detectable face, so no attempt can pass the
anonymity check and the motion stage would never run. `stand_in_run` gives a person a
face that does pass: another real person's face (a different fixture clip) moved onto the
person's keyframe as the generator paints it in place, cropped and placed the way
`app.synthetic.generate_face` does, and returned as the same `GeneratedFace` record, so it
is stored through the real path (`RecordGeneration`).
"""

from __future__ import annotations

import cv2
import numpy as np

from anonnet_studio.core.media.reader import VideoReader
from anonnet_studio.core.motion.fallback_warp import RIGID_POINTS, similarity_transform
from anonnet_studio.core.synthetic.attempts import FacePlacement, GenerationAttempt
from anonnet_studio.core.synthetic.crop import extract_crop, plan_crop
from anonnet_studio.core.vision.factory import VisionModels
from anonnet_studio.project.schema import Project
from anonnet_studio.project.synthetic_faces import GeneratedFace, face_job

STAND_IN_DEVICE = "stand-in (no generation)"


def stand_in_run(
    project: Project, identity_id: str, donor: np.ndarray, vision: VisionModels
) -> GeneratedFace:
    """A passing one-attempt run for the person, with `donor`'s face (RGB frame)."""
    job = face_job(project, identity_id)
    with VideoReader(job.video_path) as reader:
        keyframe = reader.frame_at(job.frame_index)
    donor_face = max(vision.detector.detect(donor), key=lambda d: d.score)
    donor68 = vision.landmarks.landmarks68(donor, donor_face.box)
    to_keyframe = similarity_transform(donor68[RIGID_POINTS], job.landmarks68[RIGID_POINTS])
    painted = cv2.warpAffine(
        donor, to_keyframe, keyframe.shape[1::-1], borderMode=cv2.BORDER_REPLICATE
    )
    crop = plan_crop(
        job.box,
        job.landmarks68,
        keyframe.shape,
        crop_scale=job.settings.crop_scale,
        size_limits=job.settings.crop_limits,
        mask_mode=job.settings.mask_mode,
    )
    moved68 = donor68 @ to_keyframe[:, :2].T + to_keyframe[:, 2]
    attempt = GenerationAttempt(
        seed=job.settings.seed,
        strength=job.settings.strength,
        steps=job.settings.steps,
        guidance=job.settings.guidance,
        distance=1.0,
        threshold=0.62,
        face_found=True,
        passed=True,
        note="stand-in face from another person (test)",
    )
    return GeneratedFace(
        identity_id=identity_id,
        attempts=(attempt,),
        chosen_index=0,
        image=extract_crop(painted, crop),
        placement=FacePlacement.from_arrays(
            track_id=job.track_id,
            frame_index=job.frame_index,
            image_to_frame=crop.crop_to_frame_matrix(),
            landmarks68=crop.frame_to_crop(moved68),
            box=job.box,
            landmarks5=job.landmarks5,
        ),
        needs_attention=False,
        prompt=job.prompt,
        device=STAND_IN_DEVICE,
    )
