"""Manifest parsing: the shipped manifests load and merge; malformed ones fail clearly."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from anonnet_studio.core.models import (
    HubSource,
    ManifestError,
    PackageSource,
    UrlSource,
    load_manifest_dir,
    parse_manifest,
)
from anonnet_studio.core.resources import resources_dir

VALID_MODEL: dict[str, Any] = {
    "name": "tiny",
    "purpose": "test",
    "kind": "downloaded",
    "licence": "CC0-1.0",
    "revision": "r1",
    "source": {"type": "huggingface", "repo": "owner/tiny", "revision": "ab" * 20},
    "files": [{"path": "weights/model.bin", "size": 10, "sha256": "ab" * 32}],
}


def _document(**changes: Any) -> dict[str, Any]:
    model = copy.deepcopy(VALID_MODEL)
    model.update(changes)
    return {"schema_version": 1, "models": [model]}


def test_shipped_manifests_load_and_merge() -> None:
    manifest = load_manifest_dir(resources_dir() / "models")
    names = manifest.names()
    assert len(names) == len(set(names))
    for embedded in ("yunet", "sface", "dlib-face-models", "age-gender", "fer-emotion"):
        assert manifest.get(embedded).kind == "embedded"
        assert isinstance(manifest.get(embedded).source, PackageSource)
    fan = manifest.get("face-alignment-2dfan4")
    assert [f.path for f in fan.files] == ["2DFAN4-cd938726ad.zip"]
    for model_file in fan.files:
        first, mirror = fan.sources_of(model_file)
        assert isinstance(first, UrlSource) and first.url.endswith(model_file.path)
        assert isinstance(mirror, HubSource) and mirror.path_for(model_file).endswith(
            model_file.path
        )
        # torch.hub naming: the hex digits in the file name start the file's sha256.
        assert model_file.sha256 is not None
        assert model_file.sha256.startswith(model_file.path.split("-")[1].split(".")[0])
    (parser_file,) = manifest.get("bisenet-face-parsing").files
    assert (
        parser_file.sha256 is not None
        and len(manifest.get("bisenet-face-parsing").sources_of(parser_file)) == 2
    )
    vgg = manifest.get("deepface-vgg-face")
    assert vgg.files[0].sha256 is None and vgg.files[0].no_public_hash


def test_duplicate_names_across_files_are_rejected(tmp_path: Path) -> None:
    for file_name in ("a.json", "b.json"):
        (tmp_path / file_name).write_text(json.dumps(_document()))
    with pytest.raises(ManifestError) as raised:
        load_manifest_dir(tmp_path)
    message = str(raised.value)
    assert "'tiny' is declared twice" in message
    assert "a.json" in message and "b.json" in message


def test_unknown_model_level_keys_are_kept_for_their_loaders() -> None:
    manifest = parse_manifest(_document(config="liveportrait", note="an aside"))
    spec = manifest.get("tiny")
    assert spec.extra == {"config": "liveportrait"}
    assert spec.notes == "an aside"


def test_optional_size_and_sha256_may_be_absent() -> None:
    spec = parse_manifest(_document(files=[{"path": "a.bin"}])).get("tiny")
    assert spec.files[0].size is None and spec.files[0].sha256 is None
    assert spec.total_size is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"kind": "bundled"}, "kind must be one of embedded, downloaded"),
        ({"name": "Has Spaces"}, "the name must be lower-case"),
        ({"purpose": ""}, "'purpose' must be a non-empty string"),
        ({"files": []}, "'files' must be a non-empty list"),
        ({"files": [{"path": "/etc/passwd"}]}, "must be relative"),
        ({"files": [{"path": "../escape.bin"}]}, "must be relative"),
        ({"files": [{"path": "a.bin", "sha256": "XYZ"}]}, "sha256 must be 64 lower-case hex"),
        ({"files": [{"path": "a.bin", "size": -1}]}, "size must be a non-negative integer"),
        ({"files": [{"path": "a.bin", "sha265": None}]}, "unknown field(s) sha265"),
        ({"files": [{"path": "a.bin"}, {"path": "a.bin"}]}, "listed twice"),
        ({"source": {"type": "ftp", "url": "ftp://x"}}, "type must be 'package', 'huggingface'"),
        ({"source": {"type": "huggingface", "repo": "no-owner", "revision": "r"}}, "owner/name"),
        ({"source": {"type": "package", "package": "x"}}, "cannot use a package source"),
        ({"kind": "embedded"}, "embedded model needs one model-level package source"),
    ],
)
def test_malformed_entries_name_the_model_and_the_problem(
    changes: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ManifestError) as raised:
        parse_manifest(_document(**changes))
    assert expected in str(raised.value)
    assert "model" in str(raised.value)


def test_a_model_without_any_source_is_rejected() -> None:
    document = _document()
    del document["models"][0]["source"]
    with pytest.raises(ManifestError, match="has no source"):
        parse_manifest(document)


def test_wrong_schema_version_and_broken_json_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="schema_version is 2"):
        parse_manifest({"schema_version": 2, "models": []})
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema_version": 1, "models": [')
    with pytest.raises(ManifestError, match=r"broken\.json is not valid JSON"):
        load_manifest_dir(tmp_path)
