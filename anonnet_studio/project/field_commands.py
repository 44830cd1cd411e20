"""Commands that set one value of an identity (visibility, method, name, settings)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np

from anonnet_studio.project.command_base import (
    Command,
    EditCommand,
    ProjectEditError,
    find_identity,
)
from anonnet_studio.project.events import IdentityChanged, ProjectEvents
from anonnet_studio.project.schema import ATTRIBUTE_NAMES, Identity, Method, Project
from anonnet_studio.project.settings import GenerationSettings

# Only the settings a project stores are the user's to edit (the others are the method's).
_GENERATION_FIELDS = tuple(
    f"generation.{f.name}"
    for f in dataclasses.fields(GenerationSettings)
    if f.metadata.get("persist", True)
)
EDITABLE_FIELDS = (
    "hidden",
    "method",
    "name",
    "needs_attention",
    "color",
    "selected_attempt",
    *_GENERATION_FIELDS,
)
# Fields edited with sliders or spin boxes: consecutive edits collapse into one undo step.
MERGEABLE_FIELDS = frozenset(
    {
        "generation.strength",
        "generation.steps",
        "generation.guidance",
        "generation.control_scales",
        "generation.max_side",
        "generation.mask_margin",
    }
)
_MAX_NAME_LENGTH = 200


class _SetValue(EditCommand):
    """Sets the value at a dotted path below an identity; undo puts the old value back."""

    def __init__(
        self, identity_id: str, path: str, value: Any, events: ProjectEvents | None
    ) -> None:
        super().__init__(events)
        self.identity_id = identity_id
        self.path = path
        self.value = value
        self.text = self.describe(identity_id)  # until redo knows the person's name
        self._old: Any = None

    def describe(self, who: str) -> str:
        """The Undo menu text, e.g. "Show Person 2"."""
        label = self.path.removeprefix("generation.").replace("_", " ")
        return f"Change {label} of {who}"

    def redo(self, project: Project) -> None:
        identity = find_identity(project, self.identity_id)
        self._check(project, identity)
        self.text = self.describe(identity.name)
        self._old = _get(identity, self.path)
        _set(identity, self.path, self.value)
        self._publish(IdentityChanged(self.identity_id, frozenset({self.path})))

    def undo(self, project: Project) -> None:
        _set(find_identity(project, self.identity_id), self.path, self._old)
        self._publish(IdentityChanged(self.identity_id, frozenset({self.path})))

    def merge_with(self, other: Command) -> bool:
        if (
            type(other) is type(self)
            and isinstance(other, _SetValue)
            and other.identity_id == self.identity_id
            and other.path == self.path
            and self.path in MERGEABLE_FIELDS
        ):
            self.value = other.value  # keep our `_old`: undo returns to before the drag
            self.text = other.text
            return True
        return False

    def _check(self, project: Project, identity: Identity) -> None:
        """Checks that need the project; raise ProjectEditError before anything changes."""


class SetIdentityField(_SetValue):
    """Set one of `EDITABLE_FIELDS`, e.g. ("P2", "hidden", False), ("P1", "generation.seed", 42)."""

    def __init__(
        self, identity_id: str, field: str, value: Any, *, events: ProjectEvents | None = None
    ) -> None:
        super().__init__(identity_id, field, coerce_identity_field(field, value), events)

    def describe(self, who: str) -> str:
        if self.path == "hidden":
            return f"{'Anonymize' if self.value else 'Show'} {who}"
        if self.path == "method":
            return f"Use {self.value} for {who}"
        if self.path == "generation.backend" and self.value is not None:
            return f"Generate the face of {who} with {self.value}"
        return super().describe(who)

    def _check(self, project: Project, identity: Identity) -> None:
        attempt = self.value if self.path == "selected_attempt" else None
        if attempt is not None and not 0 <= attempt < len(identity.attempts):
            raise ProjectEditError(f"{identity.name} has no attempt number {attempt + 1}.")


class RenameIdentity(_SetValue):
    def __init__(self, identity_id: str, name: str, *, events: ProjectEvents | None = None) -> None:
        super().__init__(identity_id, "name", coerce_identity_field("name", name), events)

    def describe(self, who: str) -> str:
        return f"Rename {who} to {self.value}"


class SetAttributeOverride(_SetValue):
    """Override an estimated attribute (age_group, gender, race, expression); None resets it."""

    def __init__(
        self,
        identity_id: str,
        attribute: str,
        value: str | None,
        *,
        events: ProjectEvents | None = None,
    ) -> None:
        if attribute not in ATTRIBUTE_NAMES:
            raise ProjectEditError(
                f"Unknown attribute {attribute!r}; choose one of {', '.join(ATTRIBUTE_NAMES)}."
            )
        self.attribute = attribute
        value = _optional_text(attribute, value)
        super().__init__(identity_id, f"attributes.{attribute}.override", value, events)

    def describe(self, who: str) -> str:
        label = self.attribute.replace("_", " ")
        if self.value is None:
            return f"Reset {label} of {who}"
        return f"Set {label} of {who} to {self.value}"


class SetPromptOverride(_SetValue):
    """Replace the automatic prompt with the user's text; None (or blank) goes back to auto."""

    def __init__(
        self, identity_id: str, text: str | None, *, events: ProjectEvents | None = None
    ) -> None:
        value = _optional_text("prompt", text)
        super().__init__(identity_id, "generation.prompt_override", value, events)

    def describe(self, who: str) -> str:
        return f"{'Reset' if self.value is None else 'Edit'} prompt of {who}"


def coerce_identity_field(field: str, value: Any) -> Any:
    """`value` converted for `field`; ProjectEditError with a readable reason otherwise."""
    if field in ("hidden", "needs_attention"):
        if not isinstance(value, bool | np.bool_):
            raise ProjectEditError(f"{field} must be true or false, not {value!r}.")
        return bool(value)
    if field == "method":
        try:
            return Method(value)
        except ValueError:
            choices = ", ".join(m.value for m in Method)
            raise ProjectEditError(f"Unknown method {value!r}; choose one of {choices}.") from None
    if field == "name":
        if not isinstance(value, str) or not value.strip():
            raise ProjectEditError("A name cannot be empty.")
        if len(value.strip()) > _MAX_NAME_LENGTH:
            raise ProjectEditError(f"A name can be at most {_MAX_NAME_LENGTH} characters long.")
        return value.strip()
    if field == "color":
        if not isinstance(value, str) or not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            raise ProjectEditError(f"A colour must look like #4e79a7, not {value!r}.")
        return value.lower()
    if field == "selected_attempt":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ProjectEditError(f"An attempt number must be 0 or more, not {value!r}.")
        return int(value)
    if field in _GENERATION_FIELDS:
        try:
            return GenerationSettings.coerce_field(field.removeprefix("generation."), value)
        except ValueError as exc:
            raise ProjectEditError(f"Invalid setting: {exc}.") from None
    raise ProjectEditError(
        f"{field!r} cannot be edited; editable fields are {', '.join(EDITABLE_FIELDS)}."
    )


def _optional_text(what: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProjectEditError(f"The {what} must be text, not {type(value).__name__}.")
    return value.strip() or None  # blank means "no override"


def _get(identity: Identity, path: str) -> Any:
    """The value at a dotted path below an identity, e.g. "generation.seed"."""
    value: Any = identity
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _set(owner: Any, path: str, value: Any) -> None:
    """Set the value at a dotted path. A frozen value on the way (the generation settings)
    cannot change in place, so it is replaced by an edited copy."""
    name, _, rest = path.partition(".")
    if not rest:
        setattr(owner, name, value)
        return
    child = getattr(owner, name)
    if _is_frozen_dataclass(child):
        setattr(owner, name, dataclasses.replace(child, **{rest: value}))
    else:
        _set(child, rest, value)


def _is_frozen_dataclass(value: Any) -> bool:
    params = getattr(type(value), "__dataclass_params__", None)
    return bool(params is not None and params.frozen)
