"""Batch work over many files: finding the inputs, planning a mirrored output tree, the
resumable per-file state, the batch summary, and runners that spread the files over
local processes or a Ray cluster.

Nothing here knows how one file is anonymized: a runner is handed a `FileTask` (see
`runner.py`) that does one file and returns a `FileResult`, so the CLI and the editor
reuse their own single-file path.
"""
