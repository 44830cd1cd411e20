"""Detected attributes of a person, with confidence and an override for each."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QGroupBox, QLabel, QWidget

from anonnet_studio.core.analysis.prompt import AGE_GROUP_LABELS, EXPRESSIONS, GENDERS, RACES
from anonnet_studio.project.schema import ATTRIBUTE_NAMES, AttributeValue, Identity

AUTO = "Auto (detected)"
ATTRIBUTE_LABELS = {
    "age_group": "Age group",
    "gender": "Gender",
    "race": "Ethnicity",
    "expression": "Expression",
}
ATTRIBUTE_CHOICES: dict[str, tuple[str, ...]] = {
    "age_group": AGE_GROUP_LABELS,
    "gender": GENDERS,
    "race": RACES,
    "expression": EXPRESSIONS,
}


def describe_detected(value: AttributeValue) -> str:
    """ "adult (71 %)", or "not detected"."""
    if value.detected is None:
        return "not detected"
    if value.confidence is None:
        return value.detected
    return f"{value.detected} ({round(value.confidence * 100)} %)"


class AttributesBox(QGroupBox):
    """Emits `override_chosen(attribute, value or None)`; None means "use the detected"."""

    override_chosen = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Attributes (used for the prompt)", parent)
        grid = QGridLayout(self)
        grid.setColumnStretch(2, 1)
        grid.addWidget(_header("Attribute"), 0, 0)
        grid.addWidget(_header("Detected"), 0, 1)
        grid.addWidget(_header("Use"), 0, 2)
        self.detected: dict[str, QLabel] = {}
        self.overrides: dict[str, QComboBox] = {}
        for row, name in enumerate(ATTRIBUTE_NAMES, start=1):
            grid.addWidget(QLabel(ATTRIBUTE_LABELS[name]), row, 0)
            detected = QLabel("–")
            detected.setObjectName("Detected")
            grid.addWidget(detected, row, 1)
            combo = QComboBox(self)
            combo.setObjectName(f"override-{name}")
            combo.addItem(AUTO, None)
            for choice in ATTRIBUTE_CHOICES[name]:
                combo.addItem(choice, choice)
            combo.activated.connect(lambda _i, n=name: self._on_activated(n))
            grid.addWidget(combo, row, 2)
            self.detected[name] = detected
            self.overrides[name] = combo

    def show_identity(self, identity: Identity | None) -> None:
        self.setEnabled(identity is not None)
        for name in ATTRIBUTE_NAMES:
            combo = self.overrides[name]
            with QSignalBlocker(combo):
                if identity is None:
                    self.detected[name].setText("–")
                    combo.setCurrentIndex(0)
                    continue
                value = identity.attributes.get(name)
                self.detected[name].setText(describe_detected(value))
                self.detected[name].setToolTip(_scores_tooltip(identity, name))
                if value.override is None:
                    combo.setCurrentIndex(0)
                else:
                    index = combo.findData(value.override)
                    if index < 0:  # a custom value typed elsewhere (e.g. a parsed prompt)
                        combo.addItem(value.override, value.override)
                        index = combo.count() - 1
                    combo.setCurrentIndex(index)

    def _on_activated(self, name: str) -> None:
        self.override_chosen.emit(name, self.overrides[name].currentData())


def _header(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("ColumnHeader")
    return label


def _scores_tooltip(identity: Identity, name: str) -> str:
    attributes = identity.attributes
    if name == "expression" and attributes.expression_scores:
        ranked = sorted(attributes.expression_scores.items(), key=lambda kv: -kv[1])
        return "\n".join(f"{label}: {round(score * 100)} %" for label, score in ranked)
    if name == "age_group" and attributes.age_years is not None:
        return f"Estimated age: {attributes.age_years:.0f} years"
    return ""
