"""The editor's export applies the project's voice settings, as the CLI does."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anonnet_studio.project.commands import AddMuteRange, SetVoiceDisguise
from tests.conftest import fixture_video
from tests.core.voice.voice_media import CLEAN_SPEECH_FIXTURE, decode_pcm
from tests.ui.conftest import make_window
from tests.ui.fixture_projects import fixture_project

TIMEOUT_MS = 240_000
AAC_SPREAD = 2048  # AAC's frame overlap can carry codec noise this far into a muted range


@pytest.mark.slow
def test_editor_export_disguises_the_voice_and_mutes_a_range(qtbot, worker, store, tmp_path):
    window = make_window(qtbot, worker, store, tmp_path / "rec")
    window.document.set_project(fixture_project(CLEAN_SPEECH_FIXTURE, real_hash=True))
    document = window.document
    assert document.push(SetVoiceDisguise("mcadams", 0.75, events=document.events))
    assert document.push(AddMuteRange(1.0, 2.0, events=document.events))
    dialog = window.show_export_dialog()
    dialog.output.setText(str(tmp_path / "voice.mp4"))
    dialog.leak_check.setChecked(False)  # no face models in these tests
    with qtbot.waitSignal(dialog.export_finished, timeout=TIMEOUT_MS):
        dialog.export_button.click()
    result = dialog.outcome
    assert result is not None and result.voice["method"] == "mcadams"

    ((before, rate, _),) = decode_pcm(fixture_video(CLEAN_SPEECH_FIXTURE))
    ((after, out_rate, _),) = decode_pcm(tmp_path / "voice.mp4")
    assert out_rate == rate and after.shape == before.shape  # same sample count, in sync
    assert not np.allclose(after, before, atol=1e-2)  # the voice was changed
    muted = after[:, rate + AAC_SPREAD : 2 * rate - AAC_SPREAD]
    assert muted.size and not np.any(muted)  # digital silence
    assert np.any(after[:, 3 * rate : 4 * rate])  # and only there

    report = json.loads(result.report_paths[0].read_text(encoding="utf-8"))
    voice = report["voice"]
    assert voice["mute_ranges"] == [[1.0, 2.0, "mute"]]
    assert voice["verdict"] == "DISGUISED"
    (track,) = voice["tracks"]
    assert track["samples_source"] == track["samples_output"] == before.shape[1]
    html = result.report_paths[1].read_text(encoding="utf-8")
    assert "<h2>Voice</h2>" in html and "1-2 mute" in html
    assert "Voice: mcadams, DISGUISED" in dialog.result_view.toPlainText()  # the outcome box
