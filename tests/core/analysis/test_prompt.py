from __future__ import annotations

import pytest

from anonnet_studio.core.analysis.prompt import (
    PromptSlots,
    age_group,
    build_prompt,
    expression_phrase,
    parse_prompt,
)


@pytest.mark.parametrize(
    ("years", "label"),
    [
        (0.5, "newborn"),
        (1, "toddler"),
        (3.9, "toddler"),
        (4, "child"),
        (9, "child"),
        (10, "pre-teen"),
        (13, "pre-teen"),
        (14, "teenager"),
        (17, "teenager"),
        (18, "young adult"),
        (24, "young adult"),
        (25, "adult"),
        (34, "adult"),
        (35, "middle-aged adult"),
        (49, "middle-aged adult"),
        (50, "mature adult"),
        (64, "mature adult"),
        (65, "senior"),
        (79, "senior"),
        (80, "elderly"),
        (101, "elderly"),
    ],
)
def test_age_bins_follow_the_reference(years: float, label: str) -> None:
    assert age_group(years) == label


def test_expression_rules() -> None:
    assert expression_phrase({"neutral": 0.5, "happy": 0.5}) == "neutral"
    assert expression_phrase({"neutral": 0.1, "happy": 0.85, "sad": 0.05}) == "happy"
    assert expression_phrase({"neutral": 0.3, "happy": 0.6, "sad": 0.1}) == "mildly happy"
    assert expression_phrase({"neutral": 0.45, "happy": 0.3, "sad": 0.25}) == "neutral"
    assert expression_phrase({}) == ""


def test_expression_rejects_percentages() -> None:
    # The reference compared DeepFace percentages against 0.5 and so always said neutral.
    with pytest.raises(ValueError):
        expression_phrase({"neutral": 20.0, "happy": 80.0})


def test_build_prompt_template_and_casing() -> None:
    prompt = build_prompt("young adult", "latino hispanic", "Woman", "mildly happy")
    assert prompt == (
        "A photorealistic portrait of a young adult Latino Hispanic woman, "
        "with a mildly happy expression"
    )


def test_build_prompt_leaves_out_empty_attributes() -> None:
    assert build_prompt("adult", "unknown", "man", None) == (
        "A photorealistic portrait of an adult man"
    )
    assert build_prompt(None, None, None, "neutral") == (
        "A photorealistic portrait of a person, with a neutral expression"
    )


@pytest.mark.parametrize(
    "slots",
    [
        PromptSlots("middle-aged adult", "White", "man", "neutral"),
        PromptSlots("child", None, "woman", "mildly sad"),
        PromptSlots(None, "Middle Eastern", None, None),
        PromptSlots("pre-teen", "Asian", "man", "surprise"),
    ],
)
def test_prompt_round_trips_through_the_parser(slots: PromptSlots) -> None:
    prompt = build_prompt(slots.age_group, slots.race, slots.gender, slots.expression)
    assert parse_prompt(prompt) == slots


@pytest.mark.parametrize(
    ("slots", "prompt"),
    [
        (
            ("adult", "White", "woman", "neutral"),
            "A photorealistic portrait of an adult White woman, with a neutral expression",
        ),
        (
            ("young adult", "Asian", "man", "mildly surprise"),
            "A photorealistic portrait of a young adult Asian man, "
            "with a mildly surprised expression",
        ),
        (
            (None, "Asian", "woman", "angry"),
            "A photorealistic portrait of an Asian woman, with an angry expression",
        ),
        (
            ("elderly", "Indian", "man", "fear"),
            "A photorealistic portrait of an elderly Indian man, with a fearful expression",
        ),
        (
            ("mature adult", None, None, "mildly disgust"),
            "A photorealistic portrait of a mature adult, with a mildly disgusted expression",
        ),
        (
            (None, "European", "man", "surprise"),
            "A photorealistic portrait of a European man, with a surprised expression",
        ),
        (
            ("toddler", "White", "woman", "happy"),
            "A photorealistic portrait of a toddler White girl, with a happy expression",
        ),
        (
            ("teenager", None, "man", None),
            "A photorealistic portrait of a teenager boy",
        ),
    ],
)
def test_prompts_read_as_english(slots: tuple[str | None, ...], prompt: str) -> None:
    assert build_prompt(*slots) == prompt
    # ...and parse back into the same four slots (the classifier's labels).
    assert parse_prompt(prompt) == PromptSlots(*slots)


def test_a_custom_prompt_in_the_template_parses_into_the_four_slots() -> None:
    edited = "A photorealistic portrait of an elderly Nordic woman, with an uneasy expression"
    assert parse_prompt(edited) == PromptSlots("elderly", "Nordic", "woman", "uneasy")
    # The old, ungrammatical wording of earlier projects still parses the same way.
    old = "A photorealistic portrait of a adult White man, with a mildly surprise expression"
    assert parse_prompt(old) == PromptSlots("adult", "White", "man", "mildly surprise")


def test_parser_rejects_free_text() -> None:
    assert parse_prompt("a cat wearing sunglasses") is None


def test_parser_handles_user_edits() -> None:
    slots = parse_prompt("A photorealistic portrait of an elderly Nordic woman.")
    assert slots == PromptSlots("elderly", "Nordic", "woman", None)
