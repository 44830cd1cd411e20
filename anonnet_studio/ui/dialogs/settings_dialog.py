"""Preferences: compute device, model folder, offline mode, defaults for new people."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from anonnet_studio.core.vision.selection import (
    AUTO,
    BACKEND_LABELS,
    BACKEND_MODELS,
    ROLE_LABELS,
    BackendChoice,
)
from anonnet_studio.project.schema import Method
from anonnet_studio.ui.identity.editor import METHOD_LABELS
from anonnet_studio.ui.settings import DEVICES, EditorSettings

_DEVICE_LABELS = {
    "auto": "Automatic (GPU when available)",
    "cpu": "CPU",
    "cuda": "NVIDIA GPU (CUDA)",
    "mps": "Apple GPU (MPS)",
}


class SettingsDialog(QDialog):
    def __init__(self, settings: EditorSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)

        compute = QGroupBox("Compute and models", self)
        form = QFormLayout(compute)
        self.device = QComboBox(self)
        for device in DEVICES:
            self.device.addItem(_DEVICE_LABELS[device], device)
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))
        form.addRow("Device", self.device)
        folder_row = QHBoxLayout()
        self.models_dir = QLineEdit(settings.models_dir, self)
        self.models_dir.setPlaceholderText("Default folder")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse_models_dir)
        folder_row.addWidget(self.models_dir, 1)
        folder_row.addWidget(browse)
        form.addRow("Model folder", folder_row)
        self.offline = QCheckBox("Offline: never download models", self)
        self.offline.setChecked(settings.offline)
        form.addRow(self.offline)
        note = QLabel(
            "Face detection and attributes use models that ship with the program. Synthetic "
            "faces need downloaded models (anonnet-studio models download) or a folder "
            "holding them."
        )
        note.setWordWrap(True)
        note.setObjectName("Hint")
        form.addRow(note)
        layout.addWidget(compute)
        layout.addWidget(self._face_models_group(settings.face_models))

        defaults = QGroupBox("Defaults for new people", self)
        form = QFormLayout(defaults)
        self.default_method = QComboBox(self)
        for method, label in METHOD_LABELS.items():
            self.default_method.addItem(label, method.value)
        self.default_method.setCurrentIndex(
            max(0, self.default_method.findData(settings.default_method.value))
        )
        form.addRow("Method", self.default_method)
        self.mask_margin = QDoubleSpinBox(self)
        self.mask_margin.setRange(0, 200)
        self.mask_margin.setDecimals(0)
        self.mask_margin.setSuffix(" %")
        self.mask_margin.setValue(settings.default_mask_margin * 100)
        form.addRow("Mask margin", self.mask_margin)
        layout.addWidget(defaults)

        editor = QGroupBox("Editor", self)
        form = QFormLayout(editor)
        self.autosave = QSpinBox(self)
        self.autosave.setRange(5, 3600)
        self.autosave.setSuffix(" s")
        self.autosave.setValue(settings.autosave_interval_s)
        form.addRow("Autosave every", self.autosave)
        self.keep_preview_copies = QCheckBox("Keep preview copies between sessions", self)
        self.keep_preview_copies.setChecked(settings.keep_preview_copies)
        self.keep_preview_copies.setToolTip(
            "For fast scrubbing the editor makes a small copy of each video you open, in "
            "the app's cache folder. It shows the original faces, so it is deleted when "
            "the editor closes unless this is on (then reopening a long video is faster)."
        )
        form.addRow(self.keep_preview_copies)
        layout.addWidget(editor)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def settings(self) -> EditorSettings:
        """The settings as edited in the dialog."""
        return EditorSettings(
            device=str(self.device.currentData()),
            models_dir=self.models_dir.text().strip(),
            offline=self.offline.isChecked(),
            default_method=Method(self.default_method.currentData()),
            default_mask_margin=self.mask_margin.value() / 100,
            autosave_interval_s=self.autosave.value(),
            face_models=BackendChoice(
                **{role: str(combo.currentData()) for role, combo in self.face_models.items()}
            ),
            keep_preview_copies=self.keep_preview_copies.isChecked(),
        )

    def _face_models_group(self, choice: BackendChoice) -> QGroupBox:
        group = QGroupBox("Face models", self)
        form = QFormLayout(group)
        self.face_models: dict[str, QComboBox] = {}
        for role, backends in BACKEND_MODELS.items():
            combo = QComboBox(self)
            combo.addItem("Automatic", AUTO)
            for backend in backends:
                combo.addItem(BACKEND_LABELS[backend], backend)
            combo.setCurrentIndex(max(0, combo.findData(getattr(choice, role))))
            self.face_models[role] = combo
            form.addRow(ROLE_LABELS[role], combo)
        note = QLabel(
            "Automatic uses the embedded models, or a higher-accuracy downloaded one when its "
            "weights are installed (on a GPU; the race classifier on any device). An export "
            "always uses the identity embedder its project was analysed with."
        )
        note.setWordWrap(True)
        note.setObjectName("Hint")
        form.addRow(note)
        return group

    def _browse_models_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder", self.models_dir.text())
        if folder:
            self.models_dir.setText(folder)
