"""Composition: the one place that builds concrete models and services from settings.

The CLI and the editor's worker both call into here, so they load face models, the
diffusion generator and the motion backend the same way. Qt-free: it sits above `project`
and `core` and below `workers`, `ui` and `cli` (see the import contracts in pyproject.toml).
"""
