"""Render a screenshot of the HTML audit report into docs/screenshots/report.png.

    QT_QPA_PLATFORM=offscreen python scripts/render_report_screenshot.py [--fixtures DIR]

Analyses the fixture montage of `render_screenshots.py` (four people) with the CLI, gives
each person a different choice (blur; a synthetic face, whose weights are not installed
here, so it is blurred and the report says why; pixelation; kept visible), exports it with
a report, and draws the HTML with Qt's rich-text engine. That engine has no <details>, so
the folded technical section is drawn folded, as a browser shows it. Everything but the
screenshot is written to a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from PySide6.QtGui import QColor, QImage, QPainter, QTextDocument  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from render_screenshots import DEFAULT_FIXTURES, build_montage  # noqa: E402

from anonnet_studio.cli import main as cli  # noqa: E402
from anonnet_studio.project.io import load_project, save_project  # noqa: E402
from anonnet_studio.project.schema import Method  # noqa: E402

WIDTH = 980
MARGIN = 24
CHOICES = (Method.BLUR, Method.SYNTHETIC, Method.PIXELATE, None)  # None: kept visible


def folded(page: str) -> str:
    """The page as a browser first shows it: each top-level <details> as its summary."""
    return re.sub(
        r"<details><summary>(.*?)</summary>.*</details>\s*</details>",
        r"<p><b>&#9656; \1</b> <i>(click to open)</i></p>",
        page,
        flags=re.S,
    )


def draw(page: str, dest: Path) -> None:
    document = QTextDocument()
    document.setDocumentMargin(MARGIN)
    document.setHtml(folded(page))
    document.setTextWidth(WIDTH)
    size = document.size()
    image = QImage(int(size.width()), int(size.height()), QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    document.drawContents(painter)
    painter.end()
    image.save(str(dest))
    print(f"wrote {dest.relative_to(REPO) if dest.is_relative_to(REPO) else dest}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="anonnet-report-") as tmp:
        folder = Path(tmp)
        os.environ["ANONNET_MODELS_DIR"] = str(folder / "models")  # no synthetic weights
        video = build_montage(args.fixtures, folder)
        project_path = folder / "interview.anonproj"
        if cli(["analyze", str(video), "-o", str(project_path), "-q", "--offline"]) != 0:
            return 1
        project = load_project(project_path)
        for identity, method in zip(project.identities, CHOICES, strict=False):
            identity.hidden = method is not None
            if method is not None:
                identity.method = method
        save_project(project, project_path)
        report = folder / "interview.report.json"
        code = cli(["export", str(project_path), "-o", str(folder / "interview.anonymized.mp4"),
                    "--report", str(report), "--offline", "-q"])  # fmt: skip
        if code not in (0, 3):
            return 1
        draw(report.with_suffix(".html").read_text(), args.out / "report.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
