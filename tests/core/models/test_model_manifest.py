"""Manifest parsing: the shipped manifests load and merge; malformed ones fail clearly."""

from __future__ import annotations

import copy
import json
import re
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


_URL_A = {"type": "url", "url": "https://a.example/x.bin"}
_URL_B = {"type": "url", "url": "https://b.example/x.bin"}


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
        (
            {"source": {"type": "huggingface", "repo": "owner/tiny", "revision": "main"}},
            "is not a 40-hex commit id",
        ),
        (
            {"files": [{"path": "a.bin", "sources": [_URL_A, _URL_B]}]},
            "lists several sources but no sha256",
        ),
        (
            {"files": [{"path": "a.bin", "sha256": "ab" * 32, "sources": [_URL_A, _URL_A]}]},
            "a source is listed twice",
        ),
        (
            {
                "sources": [{"type": "url", "url": "https://a/x"}],
                "source": {"type": "url", "url": "https://a/x"},
            },
            "give 'source' or 'sources', not both",
        ),
        (
            {"source": {"type": "huggingface", "repo": "o/r", "revision": "ab" * 20, "path": "x"}},
            "'path' is only allowed in a file's own source",
        ),
        ({"files": [{"path": "a.bin", "sha256": "ab" * 32, "no_public_hash": "x"}]}, "cannot also"),
        ({"files": [{"path": "a.bin", "sha256_evidence": "somewhere"}]}, "without a sha256"),
        ({"non_commercial": "yes"}, "non_commercial must be true or false"),
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


def test_an_unpinned_hub_revision_must_say_why() -> None:
    source = {"type": "huggingface", "repo": "owner/tiny", "revision": "main", "unpinned": "x"}
    spec = parse_manifest(_document(source=source)).get("tiny")
    assert spec.unpinned_reason == "x"
    assert parse_manifest(_document()).get("tiny").unpinned_reason == ""


COMMIT = re.compile(r"^[0-9a-f]{40}$")


def test_every_downloaded_file_is_pinned_or_says_why_not() -> None:
    """The trust contract of the shipped manifests (issue 17): revisions pinned to commits,
    sha256 pinned with where it was published, or an explicit reason why there is none."""
    manifest = load_manifest_dir(resources_dir() / "models")
    unpinned = []
    for spec in manifest:
        if spec.kind != "downloaded":
            continue
        assert spec.revision.strip(), spec.name
        for model_file in spec.files:
            where = f"{spec.name}/{model_file.path}"
            if model_file.sha256 is not None:
                assert len(model_file.sha256_evidence) > 20, f"{where}: where is the hash from?"
            else:
                assert len(model_file.no_public_hash) > 20, f"{where}: why no public hash?"
            sources = spec.sources_of(model_file)
            if len(sources) > 1:
                assert model_file.sha256 is not None, f"{where}: a mirror needs a pinned hash"
            for source in sources:
                assert isinstance(source, (HubSource, UrlSource)), where
                assert source.evidence, f"{where}: where does {source} come from?"
                if isinstance(source, HubSource):
                    if source.unpinned:
                        unpinned.append(spec.name)
                    else:
                        assert COMMIT.match(source.revision), f"{where}: {source.revision}"
                        if source is spec.source:
                            assert spec.revision == source.revision, spec.name
                else:
                    # A URL cannot be pinned to a commit: a versioned URL plus, where one is
                    # public, the sha256 (a file without one says why, above).
                    assert source.url.startswith("https://"), where
    # The one Hub repository no public record pins (see its manifest entry).
    assert set(unpinned) == {"liveportrait-safetensors"}


def test_non_commercial_licences_are_flagged() -> None:
    manifest = load_manifest_dir(resources_dir() / "models")
    flagged = {spec.name for spec in manifest if spec.non_commercial}
    assert {
        "controlnet-annotators",  # OpenPose: CMU, non-commercial
        "deepface-arcface",  # InsightFace-derived
        "deepface-retinaface",  # InsightFace-derived
        "deepface-vgg-face",  # Oxford VGG, non-commercial
        "deepface-race",  # built on VGG-Face
        "bisenet-face-parsing",  # CelebAMask-HQ
    } <= flagged
    assert "liveportrait" not in flagged and "sd-vae-ft-mse" not in flagged
