"""Which backend "auto" picks per role, and validation of explicit choices."""

from __future__ import annotations

import pytest

from anonnet_studio.core.vision.selection import (
    EMBEDDED_DEFAULT,
    BackendChoice,
    resolve_backends,
)


class _Gpu:
    """`accelerated` callback that records whether it was asked (it imports torch)."""

    def __init__(self, present: bool) -> None:
        self.present = present
        self.asked = 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.present


def test_auto_without_downloaded_weights_is_embedded_and_never_asks_for_the_gpu() -> None:
    gpu = _Gpu(True)
    assert resolve_backends(BackendChoice(), lambda name: False, gpu) == EMBEDDED_DEFAULT
    assert gpu.asked == 0


def test_auto_takes_downloaded_weights_on_a_gpu() -> None:
    gpu = _Gpu(True)
    resolved = resolve_backends(BackendChoice(), lambda name: True, gpu)
    assert resolved == {
        "detector": "retinaface",
        "embedder": "arcface",
        "landmarks": "fan",
        "race": "deepface",
    }
    assert gpu.asked == 1  # asked once, then remembered


def test_auto_on_a_cpu_only_takes_the_race_classifier() -> None:
    resolved = resolve_backends(BackendChoice(), lambda name: True, _Gpu(False))
    assert resolved == {**EMBEDDED_DEFAULT, "race": "deepface"}


def test_auto_falls_back_through_the_preference_order() -> None:
    available = {"deepface-vgg-face"}
    resolved = resolve_backends(BackendChoice(), available.__contains__, _Gpu(True))
    assert resolved["embedder"] == "vgg-face"
    assert resolved["detector"] == "yunet"


def test_explicit_choices_are_honoured_even_without_weights() -> None:
    # Loading then fails with the model manager's "missing, download it" message.
    choice = BackendChoice(detector="retinaface", embedder="dlib", race="off")
    resolved = resolve_backends(choice, lambda name: False, _Gpu(False))
    assert resolved == {
        "detector": "retinaface",
        "embedder": "dlib",
        "landmarks": "dlib",
        "race": "off",
    }


def test_bad_choices_are_rejected_and_bad_settings_fall_back_to_auto() -> None:
    with pytest.raises(ValueError, match="unknown identity embedder 'facenet'"):
        BackendChoice(embedder="facenet")
    loaded = BackendChoice.from_mapping({"embedder": "facenet", "race": "off", "extra": 1})
    assert loaded == BackendChoice(race="off")
