"""Aggregate attribute estimates over a person's best keyframes into one set of values."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from anonnet_studio.core.analysis.prompt import age_group, expression_phrase
from anonnet_studio.core.vision.types import AttributeEstimate, AttributeEstimator, FaceDetection

UNKNOWN = AttributeEstimate(value="unknown", confidence=0.0)


def estimate_identity_attributes(
    estimators: Sequence[AttributeEstimator],
    views: Sequence[tuple[np.ndarray, FaceDetection]],
) -> dict[str, AttributeEstimate]:
    """Run every estimator on every view (full-resolution frame + face) and combine:
    age by mean years, class attributes by mean probabilities. Keys: age, age_group,
    gender, race, expression (race is "unknown" unless a race backend is present)."""
    per_key: dict[str, list[AttributeEstimate]] = defaultdict(list)
    for image, detection in views:
        for estimator in estimators:
            for key, estimate in estimator.estimate(image, detection).items():
                per_key[key].append(estimate)

    result: dict[str, AttributeEstimate] = {}
    ages = [e.raw for e in per_key.get("age", []) if e.raw is not None]
    if ages:
        years = float(np.mean(ages))
        confidence = float(np.mean([e.confidence for e in per_key["age"]]))
        result["age"] = AttributeEstimate(f"{years:.0f}", confidence, raw=years)
        result["age_group"] = AttributeEstimate(age_group(years), confidence, raw=years)
    else:
        result["age"] = result["age_group"] = UNKNOWN
    for key in ("gender", "race"):
        result[key] = _mean_class(per_key.get(key, [])) or UNKNOWN
    expression = _mean_class(per_key.get("expression", []))
    if expression is None:
        result["expression"] = UNKNOWN
    else:
        result["expression"] = AttributeEstimate(
            expression_phrase(expression.scores), expression.confidence, expression.scores
        )
    return result


def _mean_class(estimates: Sequence[AttributeEstimate]) -> AttributeEstimate | None:
    scored = [e for e in estimates if e.scores]
    if not scored:
        return None
    classes = sorted({name for e in scored for name in e.scores})
    mean = {name: float(np.mean([e.scores.get(name, 0.0) for e in scored])) for name in classes}
    top = max(mean, key=mean.__getitem__)
    return AttributeEstimate(top, mean[top], mean)
