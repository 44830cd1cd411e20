"""Attribute -> prompt rules of the AnonNET reference, and the inverse parser.

Template: ``A photorealistic portrait of a {age group} {Race} {gender}, with a {expression}
expression``. Empty attributes are left out; race is title-cased, gender lower-cased.

The text is English, because users read it and CLIP was trained on English captions: "a"
becomes "an" before a vowel sound ("an adult", "an Asian woman", "an angry expression"),
and the expression classes that are nouns read as adjectives ("a mildly surprised
expression"). Under 18 the gender reads "boy"/"girl" ("a toddler girl", not "a toddler
woman"). The attribute slots keep the classifier's labels ("surprise", "woman"); only the
prompt text changes, and the parser maps the words back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# (upper bound exclusive in years, label), from the reference's age bins.
AGE_GROUPS: tuple[tuple[float, str], ...] = (
    (1, "newborn"),
    (4, "toddler"),
    (10, "child"),
    (14, "pre-teen"),
    (18, "teenager"),
    (25, "young adult"),
    (35, "adult"),
    (50, "middle-aged adult"),
    (65, "mature adult"),
    (80, "senior"),
    (float("inf"), "elderly"),
)
AGE_GROUP_LABELS: tuple[str, ...] = tuple(label for _, label in AGE_GROUPS)
GENDERS: tuple[str, ...] = ("man", "woman")
RACES: tuple[str, ...] = ("Asian", "Black", "Indian", "Latino Hispanic", "Middle Eastern", "White")
EXPRESSIONS: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "surprise", "fear", "disgust")

NEUTRAL_MIN_PROBABILITY = 0.5
STRONG_EXPRESSION_MIN_PROBABILITY = 0.8

_PREFIX = "A photorealistic portrait of"
# Expression labels that are nouns, and how the prompt says them.
_EXPRESSION_ADJECTIVES: dict[str, str] = {
    "surprise": "surprised",
    "fear": "fearful",
    "disgust": "disgusted",
}
_EXPRESSION_LABELS = {adjective: label for label, adjective in _EXPRESSION_ADJECTIVES.items()}
# Age groups under 18, for which the gender classes read as a child's.
_YOUNG_AGE_GROUPS = frozenset(label for upper, label in AGE_GROUPS if upper <= 18)
_YOUNG_GENDER_WORDS = {"man": "boy", "woman": "girl"}
_GENDER_LABELS = {word: label for label, word in _YOUNG_GENDER_WORDS.items()}
# Words spelled with a vowel but said with a consonant ("a European"), and the reverse
# ("an honest"): the usual exceptions for race names and adjectives users type.
_CONSONANT_SOUND_STARTS = ("eu", "uni", "use", "usu", "ur", "one", "once")
_VOWEL_SOUND_STARTS = ("hour", "honest", "honou", "honor", "heir")


def age_group(age_years: float) -> str:
    """Reference age bin for an age in years (e.g. 30 -> "adult")."""
    for upper, label in AGE_GROUPS:
        if age_years < upper:
            return label
    return AGE_GROUPS[-1][1]


def expression_phrase(scores: Mapping[str, float]) -> str:
    """Reference rule: "neutral" if P(neutral) >= 0.5; otherwise the top class if its
    probability is >= 0.8, else "mildly <top class>". Scores are probabilities in 0..1
    (the reference compared DeepFace's 0-100 percentages against 0.5: a defect)."""
    if not scores:
        return ""
    if any(value > 1.0 + 1e-6 for value in scores.values()):
        raise ValueError("expression scores must be probabilities in [0, 1], not percentages")
    if scores.get("neutral", 0.0) >= NEUTRAL_MIN_PROBABILITY:
        return "neutral"
    top, probability = max(scores.items(), key=lambda item: item[1])
    if top == "neutral" or probability >= STRONG_EXPRESSION_MIN_PROBABILITY:
        return top
    return f"mildly {top}"


def build_prompt(
    age_group: str | None, race: str | None, gender: str | None, expression: str | None
) -> str:
    """Fill the reference template; empty or "unknown" slots are left out."""

    def clean(value: str | None) -> str:
        value = (value or "").strip()
        return "" if value.lower() in ("", "unknown") else value

    gender_word = clean(gender).lower()
    if clean(age_group).lower() in _YOUNG_AGE_GROUPS:
        gender_word = _YOUNG_GENDER_WORDS.get(gender_word, gender_word)
    words = [
        clean(age_group),
        clean(race).title(),
        gender_word,
    ]
    subject = " ".join(word for word in words if word) or "person"
    prompt = f"{_PREFIX} {indefinite_article(subject)} {subject}"
    expression_text = expression_words(clean(expression))
    if expression_text:
        prompt += f", with {indefinite_article(expression_text)} {expression_text} expression"
    return prompt


def indefinite_article(phrase: str) -> str:
    """ "a" or "an" for the phrase that follows it, by the sound of its first word."""
    word = phrase.strip().lower()
    if word.startswith(_VOWEL_SOUND_STARTS):
        return "an"
    if word.startswith(_CONSONANT_SOUND_STARTS):
        return "a"
    return "an" if word[:1] in ("a", "e", "i", "o", "u") else "a"


def expression_words(expression: str) -> str:
    """An expression slot as the prompt says it: "mildly surprise" -> "mildly surprised"."""
    words = expression.split()
    if words:
        words[-1] = _EXPRESSION_ADJECTIVES.get(words[-1].lower(), words[-1])
    return " ".join(words)


@dataclass(frozen=True, slots=True)
class PromptSlots:
    age_group: str | None
    race: str | None
    gender: str | None
    expression: str | None


_PROMPT_RE = re.compile(
    r"^\s*A photorealistic portrait of an? (?P<subject>.+?)"
    r"(?:, with an? (?P<expression>.+?) expression)?\s*\.?\s*$",
    re.IGNORECASE,
)


def parse_prompt(prompt: str) -> PromptSlots | None:
    """Parse a prompt written in the reference template back into its four slots.

    Returns None for free text that does not follow the template. Unknown words between
    the age group and the gender are taken as the race, so custom races survive.
    """
    match = _PROMPT_RE.match(prompt)
    if match is None:
        return None
    subject = match.group("subject").strip()
    age = None
    for label in sorted(AGE_GROUP_LABELS, key=len, reverse=True):
        if subject.lower() == label or subject.lower().startswith(label + " "):
            age, subject = label, subject[len(label) :].strip()
            break
    gender = None
    words = subject.split()
    if words and words[-1].lower() in (*GENDERS, *_GENDER_LABELS, "person"):
        last = words.pop().lower()
        gender = None if last == "person" else _GENDER_LABELS.get(last, last)
    race = " ".join(words).title() or None
    expression = match.group("expression")
    return PromptSlots(age, race, gender, _expression_slot(expression) if expression else None)


def _expression_slot(text: str) -> str:
    """The slot value of an expression as written in a prompt ("fearful" -> "fear")."""
    words = text.strip().split()
    if words:
        words[-1] = _EXPRESSION_LABELS.get(words[-1].lower(), words[-1])
    return " ".join(words)
