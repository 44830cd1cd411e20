"""Render screenshots of the editor offscreen into docs/screenshots/.

    QT_QPA_PLATFORM=offscreen python scripts/render_screenshots.py [--fixtures DIR] [--out DIR]

Builds a montage from the real fixture footage in a temporary folder (d18, d19, a
two-shot of d3 and d11, d18 again: four shots, four people, one of them recurring),
analyses it with the real embedded models on the editor's worker, and grabs the main
window, the people panel and the export dialog. Nothing is written outside the temporary
folder and the output folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from anonnet_studio.ui.context import EditorContext  # noqa: E402
from anonnet_studio.ui.dialogs.messages import RecordingMessenger  # noqa: E402
from anonnet_studio.ui.main_window import MainWindow  # noqa: E402
from anonnet_studio.ui.preview.playback import ElapsedClock  # noqa: E402
from anonnet_studio.ui.settings import SettingsStore  # noqa: E402
from anonnet_studio.ui.theme import apply_theme  # noqa: E402
from anonnet_studio.workers.requests import ComputeConfig  # noqa: E402
from anonnet_studio.workers.services import ComputeServices  # noqa: E402
from anonnet_studio.workers.worker import ComputeWorker  # noqa: E402

DEFAULT_FIXTURES = REPO.parent / "shared" / "fixtures"
CLIP_FRAMES = 60


def build_montage(fixtures: Path, folder: Path) -> Path:
    """Four shots with hard cuts, 854x480, no audio (test media helpers, plain PyAV)."""
    from tests.media_factory import make_montage, make_side_by_side

    video = fixtures / "video"
    two_shot = make_side_by_side(
        video / "lp_d3.mp4", video / "lp_d11.mp4", folder / "two_shot.mp4",
        size=(854, 480), max_frames=CLIP_FRAMES,
    )  # fmt: skip
    clips = [video / "lp_d18.mp4", video / "lp_d19.mp4", two_shot, video / "lp_d18.mp4"]
    montage = folder / "interview_montage.mp4"
    make_montage(clips, montage, size=(854, 480), max_frames_per_clip=CLIP_FRAMES)
    return montage


def wait_until(app: QApplication, done: object, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    while not done():  # type: ignore[operator]
        if time.monotonic() > deadline:
            return False
        QTimer.singleShot(20, loop.quit)
        loop.exec()
    return True


def settle(app: QApplication, seconds: float = 0.5) -> None:
    wait_until(app, lambda: False, seconds)


def save(widget: QWidget, path: Path) -> None:
    widget.grab().save(str(path))
    print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    app = QApplication(sys.argv[:1])
    apply_theme(app)
    with tempfile.TemporaryDirectory(prefix="anonnet-shots-") as tmp:
        folder = Path(tmp)
        worker = ComputeWorker(ComputeServices(ComputeConfig(offline=True)))
        worker.start()
        messenger = RecordingMessenger()
        context = EditorContext(
            worker=worker,
            store=SettingsStore(QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat)),
            recovery_dir=folder / "recovery",
            messenger=messenger,
            clock=ElapsedClock(),
            folder_opener=lambda _p: None,
        )
        window = MainWindow(context)
        window.resize(1600, 960)
        window.show()
        try:
            video = build_montage(args.fixtures, folder)
            print(f"analysing {video.name} …")
            started = time.monotonic()
            window.files.open_path(video)
            if not wait_until(app, lambda: window.document.project is not None, 900):
                print("analysis did not finish:", messenger.errors, file=sys.stderr)
                return 1
            print(f"analysed in {time.monotonic() - started:.1f} s")
            project = window.document.project
            assert project is not None
            two_shot = project.shots[2] if len(project.shots) > 2 else project.shots[-1]
            frame = (two_shot.start_frame + two_shot.end_frame) // 2
            first = project.identities[0].id
            window.document.set_field(first, "method", "pixelate")
            window.state.set_frame(frame)
            window.state.select_identity(project.identities_in_shot(two_shot.index)[0].id)
            window.timeline.view.select("shot", two_shot.index)
            wait_until(app, lambda: window.frames.images(frame).anonymized is not None, 60)
            settle(app)
            save(window, args.out / "main_window.png")
            window.identities.editor.generation.advanced.set_expanded(True)
            window.resize(1600, 1500)  # tall enough to show the whole person editor
            settle(app)
            save(window.identities, args.out / "identity_panel.png")
            dialog = window.show_export_dialog()
            assert dialog is not None
            dialog.output.setText("/home/editor/Videos/interview_montage.anonymized.mp4")
            dialog.resize(620, 420)
            settle(app)
            save(dialog, args.out / "export_dialog.png")
        finally:
            window.close()
            worker.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
