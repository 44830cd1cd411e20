"""The Models dialog's jobs: list every model with where it is (or would be) found,
download missing ones through the model manager, and load one from a folder the user
picks (hashed first), with progress and cancel like every job."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from anonnet_studio.core.progress import CancelToken, Progress, ProgressCallback, check_cancel
from anonnet_studio.workers.requests import (
    ModelDownloadRequest,
    ModelFolderRequest,
    ModelListRequest,
)
from anonnet_studio.workers.results import ModelFolderChosen, ModelList, ModelRow, ModelsDownloaded
from anonnet_studio.workers.services import ComputeServices


def list_models(
    request: ModelListRequest,
    services: ComputeServices,
    on_progress: ProgressCallback,
    cancel: CancelToken,
) -> ModelList:
    from anonnet_studio.core.synthetic.pipeline import REQUIRED_MODELS

    manager = services.manager()
    rows = []
    for spec in manager.specs():
        check_cancel(cancel)
        location = manager.locate(spec.name)
        chosen = manager.local_path(spec.name)
        looked_in = [str(chosen or "")]
        user = manager.user_folder(spec.name)
        looked_in += [str(user) if user is not None else "", str(manager.cache_folder(spec.name))]
        rows.append(
            ModelRow(
                name=spec.name,
                purpose=spec.purpose,
                licence=spec.licence,
                non_commercial=spec.non_commercial,
                size=spec.total_size,
                installed=location is not None,
                location=str(location.folder) if location is not None else "",
                looked_in=tuple(p for p in looked_in if p),
                downloadable=spec.kind == "downloaded" and not manager.offline,
                synthetic=spec.name in REQUIRED_MODELS,
                chosen_folder=str(chosen or ""),
            )
        )
    return ModelList(tuple(rows), offline=manager.offline)


def download_models(
    request: ModelDownloadRequest,
    services: ComputeServices,
    on_progress: ProgressCallback,
    cancel: CancelToken,
) -> ModelsDownloaded:
    manager = services.manager()
    done = []
    for number, name in enumerate(request.names, start=1):
        check_cancel(cancel)

        def report(progress: Progress, name: str = name, number: int = number) -> None:
            # One stage per model, so the ETA restarts with each and the bar says which.
            stage = f"Downloading {name} ({number} of {len(request.names)})"
            on_progress(dataclasses.replace(progress, stage=stage))

        manager.download(name, on_progress=report, cancel=cancel)
        done.append(name)
    return ModelsDownloaded(tuple(done))


def choose_model_folder(
    request: ModelFolderRequest,
    services: ComputeServices,
    on_progress: ProgressCallback,
    cancel: CancelToken,
) -> ModelFolderChosen:
    manager = services.manager()
    manager.use_folder(request.name, request.folder, on_progress=on_progress, cancel=cancel)
    services.drop_loaded_models()  # a copy loaded from the old place must not stay in use
    return ModelFolderChosen(request.name, str(request.folder or ""))


# Merged into the worker's handler table (handlers.py).
MODEL_HANDLERS: dict[type, Callable[..., object]] = {
    ModelListRequest: list_models,
    ModelDownloadRequest: download_models,
    ModelFolderRequest: choose_model_folder,
}
