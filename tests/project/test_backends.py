"""Every step after the analysis pins the embedder the project was analysed with."""

from __future__ import annotations

import pytest

from anonnet_studio.core.errors import ModelError
from anonnet_studio.core.vision.selection import BackendChoice
from anonnet_studio.project.backends import (
    analysed_embedder,
    choice_for_project,
    embedder_key,
    require_matching_embedder,
)
from tests.project.factories import make_demo_project


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("sface-2021dec-int8 (threshold 0.54)", "sface"),
        ("dlib-resnet-v1 (threshold 0.07)", "dlib"),
        ("deepface-arcface", "arcface"),
        ("deepface-vgg-face", "vgg-face"),
        ("facenet512", None),
    ],
)
def test_embedder_names_map_to_backend_keys(name, key) -> None:
    assert embedder_key(name) == key


def test_the_recorded_backend_wins_over_the_name() -> None:
    project = make_demo_project()
    project.analysis["models"] = {"embedder": "sface 2021dec", "backend:embedder": "arcface"}
    assert analysed_embedder(project) == "arcface"
    pinned = choice_for_project(BackendChoice(embedder="sface", race="off"), project)
    assert pinned == BackendChoice(embedder="arcface", race="off")


def test_older_projects_are_pinned_by_the_embedder_name_and_unknown_ones_not_at_all() -> None:
    project = make_demo_project()
    assert analysed_embedder(project) == "sface"  # factory projects record "sface 2021dec"
    project.analysis["models"] = {}
    assert choice_for_project(BackendChoice(), project) == BackendChoice()


def test_a_mismatched_embedder_is_refused_with_a_readable_message() -> None:
    project = make_demo_project()
    require_matching_embedder(project, "sface-2021dec-int8")
    with pytest.raises(ModelError, match="recognised with the sface embedder") as caught:
        require_matching_embedder(project, "dlib-resnet-v1")
    assert "analyse the video again" in (caught.value.hint or "")
