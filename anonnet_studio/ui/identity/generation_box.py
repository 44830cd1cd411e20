"""Synthetic-face settings of one person: the backend (AnonNET or FAMS), prompt, negative
prompt, seed, strength (FAMS's degree d), the "Advanced" parameters, the Regenerate button
with the last result, and the strip of earlier candidates to choose from."""

from __future__ import annotations

import random

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from anonnet_studio.core.synthetic.fams.settings import degree_for_strength
from anonnet_studio.project.prompting import auto_prompt, effective_prompt
from anonnet_studio.project.schema import SEED_RANGE, Identity, Project
from anonnet_studio.ui.backend_status import BackendStatus, resolve
from anonnet_studio.ui.icons import icon
from anonnet_studio.ui.identity.backend_row import BackendRow
from anonnet_studio.ui.identity.candidate_strip import CandidateStrip
from anonnet_studio.ui.identity.collapsible import CollapsibleSection
from anonnet_studio.ui.images import pixmap_from_rgb

MAX_SEED = 2**31 - 1
READY_TIP = "Generate a new synthetic face with these settings"
STRENGTH_TIP = "How far the new face may move from the original (denoising)"
DEGREE_TIP = (
    "FAMS's anonymization degree d = 1.25 × strength: 0 reconstructs the face, 1 removes "
    "its identity, above 1 moves further away; the paper uses 1.2–1.3 (strength 1.00 "
    "gives its 1.25). Each failed anonymity check retries with d + 0.1, up to 2.0."
)
PROMPT_UNUSED_TIP = "FAMS is guided by the original face and reads no prompt"


class CommitTextEdit(QPlainTextEdit):
    """Plain text that is committed when focus leaves or on Ctrl+Enter, so typing a
    sentence makes one undo step rather than one per key."""

    committed = Signal(str)

    def __init__(self, lines: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setFixedHeight(self.fontMetrics().lineSpacing() * lines + 12)
        self._last_shown = ""

    def show_text(self, text: str) -> None:
        self._last_shown = text
        with QSignalBlocker(self):
            self.setPlainText(text)

    def commit(self) -> None:
        text = self.toPlainText()
        if text != self._last_shown:
            self._last_shown = text
            self.committed.emit(text)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.commit()
        super().focusOutEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.commit()
            return
        super().keyPressEvent(event)


class GenerationBox(QGroupBox):
    field_edited = Signal(str, object)  # "generation.<name>", value
    edit_run_finished = Signal()  # a slider was released / a spin box lost focus
    prompt_committed = Signal(object)  # str, or None for the automatic prompt
    regenerate_clicked = Signal()
    candidate_chosen = Signal(str, int)  # identity id, attempt index to use

    def __init__(self, rng: random.Random, parent: QWidget | None = None) -> None:
        super().__init__("Synthetic face", parent)
        self._rng = rng
        self._auto_prompt = ""
        self._identity_id: str | None = None
        self._backend: str | None = None  # the shown person's choice (None: the default)
        self._status = BackendStatus()
        self._override: tuple[bool, str] | None = None  # set_generation_available's
        layout = QVBoxLayout(self)

        self.backend = BackendRow(self)
        self.backend.backend_chosen.connect(self._on_backend_chosen)
        layout.addWidget(self.backend)

        prompt_row = QHBoxLayout()
        self.prompt_state = QLabel("Automatic prompt")
        self.prompt_state.setObjectName("Hint")
        prompt_row.addWidget(QLabel("Prompt"))
        prompt_row.addWidget(self.prompt_state, 1)
        self.reset_prompt = QToolButton(self)
        self.reset_prompt.setIcon(icon("reset"))
        self.reset_prompt.setText("Reset to auto")
        self.reset_prompt.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.reset_prompt.setToolTip("Go back to the prompt built from the attributes")
        self.reset_prompt.clicked.connect(lambda: self.prompt_committed.emit(None))
        prompt_row.addWidget(self.reset_prompt)
        layout.addLayout(prompt_row)
        self.prompt = CommitTextEdit(3, self)
        self.prompt.setObjectName("PromptEdit")
        self.prompt.setToolTip("Edit freely; Ctrl+Enter or leaving the field applies it")
        self.prompt.committed.connect(self._on_prompt_committed)
        layout.addWidget(self.prompt)

        self.negative = CommitTextEdit(3, self)
        self.negative.committed.connect(
            lambda text: self.field_edited.emit("generation.negative_prompt", text)
        )
        self.negative_section = CollapsibleSection("Negative prompt", self.negative)
        layout.addWidget(self.negative_section)

        form = QFormLayout()
        seed_row = QHBoxLayout()
        self.seed = QSpinBox(self)
        self.seed.setRange(0, MAX_SEED)
        self.seed.setKeyboardTracking(False)
        self.seed.valueChanged.connect(lambda v: self.field_edited.emit("generation.seed", v))
        seed_row.addWidget(self.seed, 1)
        self.dice = QToolButton(self)
        self.dice.setIcon(icon("dice"))
        self.dice.setToolTip("A new random seed (a different face)")
        self.dice.clicked.connect(self._roll_seed)
        seed_row.addWidget(self.dice)
        form.addRow("Seed", seed_row)

        strength_row = QHBoxLayout()
        self.strength = QSlider(Qt.Orientation.Horizontal, self)
        self.strength.setRange(1, 100)
        self.strength.setToolTip(STRENGTH_TIP)
        self.strength.valueChanged.connect(self._on_strength)
        self.strength.sliderReleased.connect(self.edit_run_finished)
        self.strength_value = QLabel("1.00")
        self.strength_value.setMinimumWidth(60)
        strength_row.addWidget(self.strength, 1)
        strength_row.addWidget(self.strength_value)
        self.strength_label = QLabel("Strength", self)
        form.addRow(self.strength_label, strength_row)
        layout.addLayout(form)

        self.advanced = CollapsibleSection("Advanced", self._build_advanced())
        layout.addWidget(self.advanced)

        regenerate_row = QHBoxLayout()
        self.regenerate = QPushButton(icon("regenerate"), "Regenerate", self)
        self.regenerate.setObjectName("RegenerateButton")
        self.regenerate.clicked.connect(self.regenerate_clicked)
        regenerate_row.addWidget(self.regenerate)
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        self.result_label.setObjectName("Hint")
        regenerate_row.addWidget(self.result_label, 1)
        self.candidate = QLabel(self)
        self.candidate.setFixedSize(64, 64)
        self.candidate.setScaledContents(False)
        regenerate_row.addWidget(self.candidate)
        layout.addLayout(regenerate_row)
        self.candidates = CandidateStrip(self)
        self.candidates.attempt_chosen.connect(self._on_attempt_chosen)
        layout.addWidget(self.candidates)

    def _build_advanced(self) -> QWidget:
        body = QWidget(self)
        form = QFormLayout(body)
        form.setContentsMargins(12, 0, 0, 0)
        self.steps = QSpinBox(body)
        self.steps.setRange(1, 150)
        self.steps.valueChanged.connect(lambda v: self.field_edited.emit("generation.steps", v))
        self.steps.editingFinished.connect(self.edit_run_finished)
        form.addRow("Steps", self.steps)
        self.guidance = QDoubleSpinBox(body)
        self.guidance.setRange(0.0, 30.0)
        self.guidance.setSingleStep(0.5)
        self.guidance.setDecimals(1)
        self.guidance.valueChanged.connect(
            lambda v: self.field_edited.emit("generation.guidance", round(v, 2))
        )
        self.guidance.editingFinished.connect(self.edit_run_finished)
        form.addRow("Guidance", self.guidance)
        self.mask_mode = QComboBox(body)
        self.mask_mode.addItem("Face only", "face")
        self.mask_mode.addItem("Whole head (with hair)", "head")
        self.mask_mode.activated.connect(
            lambda _i: self.field_edited.emit("generation.mask_mode", self.mask_mode.currentData())
        )
        form.addRow("Replace", self.mask_mode)
        self.max_side = QSpinBox(body)
        self.max_side.setRange(256, 1024)
        self.max_side.setSingleStep(64)
        self.max_side.setSuffix(" px")
        self.max_side.valueChanged.connect(
            lambda v: self.field_edited.emit("generation.max_side", v)
        )
        self.max_side.editingFinished.connect(self.edit_run_finished)
        form.addRow("Max. size", self.max_side)
        return body

    # -- showing a person -----------------------------------------------------------------

    def show_identity(self, project: Project | None, identity: Identity | None) -> None:
        self.setEnabled(identity is not None)
        self._identity_id = identity.id if identity is not None else None
        self.candidates.show_identity(project, identity)
        if identity is None or project is None:
            self._show_nobody()
            return
        settings = identity.generation
        self._backend = settings.backend
        self.backend.show_choice(settings.backend)
        self._show_backend_effects()
        self._auto_prompt = auto_prompt(identity)
        self.prompt.show_text(effective_prompt(identity))
        custom = settings.prompt_override is not None
        self.prompt_state.setText("Custom prompt" if custom else "Automatic (from attributes)")
        self.reset_prompt.setEnabled(custom)
        self.negative.show_text(settings.negative_prompt)
        for widget, value in (
            (self.seed, settings.seed),
            (self.strength, round(settings.strength * 100)),
            (self.steps, settings.steps),
            (self.max_side, settings.max_side),
        ):
            with QSignalBlocker(widget):
                widget.setValue(value)
        with QSignalBlocker(self.guidance):
            self.guidance.setValue(settings.guidance)
        self._show_strength(settings.strength)
        with QSignalBlocker(self.mask_mode):
            self.mask_mode.setCurrentIndex(max(0, self.mask_mode.findData(settings.mask_mode)))
        self._show_last_attempt(project, identity)

    def _show_nobody(self) -> None:
        """Blank every field (a disabled box must not show the last person's seed)."""
        self.prompt.show_text("")
        self.negative.show_text("")
        self.prompt_state.setText("")
        self.result_label.setText("")
        self.candidate.clear()
        self.strength_value.setText("")
        self._backend = None
        self.backend.show_choice(None)
        self._show_backend_effects()
        for spin in (self.seed, self.steps, self.guidance, self.max_side):
            spin.clear()  # empties the text; the value comes back with the next person

    def set_generation_available(self, available: bool, reason: str) -> None:
        """Whether anything can generate (until the per-backend status arrives)."""
        self._override = (available, reason)
        self._update_regenerate()

    def set_backend_status(self, status: BackendStatus) -> None:
        """Which backends can run: unavailable ones are disabled in the list with their
        reason, and Regenerate follows the shown person's backend."""
        self._status = status
        self._override = None
        self.backend.show_status(status)
        self._update_regenerate()

    def _update_regenerate(self) -> None:
        if self._override is not None:
            available, reason = self._override
        else:
            why = self._status.reason(self._backend)
            available, reason = why is None, why or READY_TIP
        self.regenerate.setEnabled(available)
        self.regenerate.setToolTip(reason)

    def _show_backend_effects(self) -> None:
        """FAMS reads no prompt, and its strength is the degree d."""
        fams = resolve(self._backend) == "fams"
        for widget in (self.prompt, self.negative, self.reset_prompt, self.mask_mode):
            widget.setEnabled(not fams)
        self.prompt.setToolTip(
            PROMPT_UNUSED_TIP if fams else "Edit freely; Ctrl+Enter or leaving the field applies it"
        )
        self.strength_label.setText("Degree d" if fams else "Strength")
        self.strength.setToolTip(DEGREE_TIP if fams else STRENGTH_TIP)
        self._update_regenerate()

    def _show_strength(self, strength: float) -> None:
        if resolve(self._backend) == "fams":
            self.strength_value.setText(f"d = {degree_for_strength(strength):.2f}")
        else:
            self.strength_value.setText(f"{strength:.2f}")

    def _show_last_attempt(self, project: Project, identity: Identity) -> None:
        index = identity.selected_attempt
        if index is None or not 0 <= index < len(identity.attempts):
            self.result_label.setText("No synthetic face generated yet.")
            self.candidate.clear()
            return
        attempt = identity.attempts[index]
        verdict = "passed" if attempt.passed else "still recognisable"
        self.result_label.setText(
            f"Attempt {index + 1} of {len(identity.attempts)}: seed {attempt.seed}, "
            f"distance {attempt.distance:.2f} ({verdict})."
        )
        image = project.images.get(attempt.image_key) if attempt.image_key else None
        if image is not None:
            self.candidate.setPixmap(pixmap_from_rgb(image, 64))
        else:
            self.candidate.clear()

    # -- edits ----------------------------------------------------------------------------

    def _on_prompt_committed(self, text: str) -> None:
        text = text.strip()
        # Typing the automatic prompt back in is the same as resetting to auto.
        self.prompt_committed.emit(None if not text or text == self._auto_prompt else text)

    def _on_attempt_chosen(self, index: int) -> None:
        if self._identity_id is not None:
            self.candidate_chosen.emit(self._identity_id, index)

    def _on_strength(self, value: int) -> None:
        self._show_strength(value / 100)
        self.field_edited.emit("generation.strength", value / 100)

    def _on_backend_chosen(self, backend: str | None) -> None:
        self.field_edited.emit("generation.backend", backend)
        self.edit_run_finished.emit()

    def _roll_seed(self) -> None:
        self.field_edited.emit("generation.seed", self._rng.randint(*SEED_RANGE))
        self.edit_run_finished.emit()
