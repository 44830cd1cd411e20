"""Cluster face tracks into people (identities) across the whole video.

Average-linkage agglomerative clustering on cosine distance between track embeddings,
stopped at the embedder's calibrated threshold, with a cannot-link constraint: two tracks
visible in the same frame are two different people, whatever their embeddings say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True, eq=False)
class TrackForClustering:
    track_id: int
    embedding: np.ndarray  # L2-normalised
    first_frame: int
    last_frame: int
    frames: frozenset[int] | None = None  # exact frames, for the cannot-link check
    weight: float = 1.0  # e.g. track length; heavier tracks dominate the cluster mean


def cluster_tracks(tracks: Sequence[TrackForClustering], threshold: float) -> list[list[int]]:
    """Group track ids into people. Clusters are ordered by first appearance."""
    if not tracks:
        return []
    embeddings = np.stack([t.embedding for t in tracks]).astype(np.float64)
    embeddings /= np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-8)
    # Cluster-to-cluster mean distance, updated in place (Lance-Williams, average linkage).
    distance = 1.0 - embeddings @ embeddings.T
    cannot_link = _overlap_matrix(tracks)
    sizes = np.ones(len(tracks))
    alive = np.ones(len(tracks), dtype=bool)
    members: list[list[int]] = [[i] for i in range(len(tracks))]

    while True:
        candidate = np.where(cannot_link | ~alive[:, None] | ~alive[None, :], np.inf, distance)
        np.fill_diagonal(candidate, np.inf)
        a, b = np.unravel_index(int(np.argmin(candidate)), candidate.shape)
        if not candidate[a, b] < threshold:
            break
        merged = (sizes[a] * distance[a] + sizes[b] * distance[b]) / (sizes[a] + sizes[b])
        distance[a, :] = distance[:, a] = merged
        cannot_link[a, :] = cannot_link[:, a] = cannot_link[a] | cannot_link[b]
        sizes[a] += sizes[b]
        alive[b] = False
        members[a] += members[b]
    clusters = [members[i] for i in range(len(tracks)) if alive[i]]

    grouped = [[tracks[i].track_id for i in cluster] for cluster in clusters]
    first_seen = {t.track_id: t.first_frame for t in tracks}
    for group in grouped:
        group.sort(key=lambda tid: first_seen[tid])
    grouped.sort(key=lambda group: first_seen[group[0]])
    return grouped


def _overlap_matrix(tracks: Sequence[TrackForClustering]) -> np.ndarray:
    n = len(tracks)
    overlaps = np.zeros((n, n), dtype=bool)
    for i in range(n):
        for j in range(i + 1, n):
            a, b = tracks[i], tracks[j]
            if a.last_frame < b.first_frame or b.last_frame < a.first_frame:
                continue
            shared = True if a.frames is None or b.frames is None else bool(a.frames & b.frames)
            overlaps[i, j] = overlaps[j, i] = shared
    return overlaps


def representative_embedding(
    embeddings: Sequence[np.ndarray], weights: Sequence[float] | None = None
) -> np.ndarray:
    stacked = np.stack(embeddings).astype(np.float32)
    w = np.ones(len(stacked), np.float32) if weights is None else np.asarray(weights, np.float32)
    mean = (stacked * w[:, None]).sum(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-8)
