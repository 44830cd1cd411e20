"""The embedded attribute estimators, in one place.

Each implements `types.AttributeEstimator`: `estimate(image, detection)` returns a dict
keyed by attribute name (`age`, `gender`, `expression`, `race`) with 0..1 probabilities.
Callers merge the dicts of every configured estimator; a missing key means "unknown" and
the prompt builder leaves that slot out.

Race: no package ships an offline race/ethnicity model, so no embedded estimator returns
`race`. A downloaded backend (e.g. DeepFace's race model) plugs in as one more
`AttributeEstimator` returning `{"race": AttributeEstimate(value, confidence, scores)}`
with scores already divided by 100 (DeepFace reports percentages); build it only when the
model manager reports its weights available.
"""

from __future__ import annotations

from anonnet_studio.core.vision.age_gender import (
    AGE_FILE,
    AGE_GENDER_MANIFEST,
    GENDER_FILE,
    AgeGenderEstimator,
)
from anonnet_studio.core.vision.emotion import EMOTION_FILE, EMOTION_LABELS, EmotionEstimator

__all__ = [
    "AGE_FILE",
    "AGE_GENDER_MANIFEST",
    "EMOTION_FILE",
    "EMOTION_LABELS",
    "GENDER_FILE",
    "AgeGenderEstimator",
    "EmotionEstimator",
]
