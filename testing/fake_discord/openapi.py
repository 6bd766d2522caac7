"""Validate request bodies against Discord's published OpenAPI description.

The description lives beside the repository in ``../shared/discord-api-spec/openapi.json``
(``DISCORD_OPENAPI_SPEC`` overrides the path). When it is absent, :func:`load_default` returns
``None`` and the fake Discord skips schema validation (its own limit checks still run).

Deliberate tolerances, each something the real API accepts although the description says otherwise:

* snowflakes sent as JSON integers (discord.py sends ``id``/``channel_id``-like values as numbers);
* ``default_member_permissions`` sent as a decimal string (the description types it as integer).
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

__all__ = ["OpenAPIChecker", "default_spec_path", "load_default"]

_REPO_ROOT = Path(__file__).resolve().parents[2]

#: (method, path template) of the operations whose JSON request bodies are validated.
VALIDATED_OPERATIONS: tuple[tuple[str, str], ...] = (
    ("PUT", "/applications/{application_id}/commands"),
    ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands"),
    ("POST", "/interactions/{interaction_id}/{interaction_token}/callback"),
    ("POST", "/channels/{channel_id}/messages"),
    ("POST", "/channels/{channel_id}/followers"),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}"),
    ("POST", "/channels/{channel_id}/messages/{message_id}/threads"),
    ("POST", "/channels/{channel_id}/threads"),
    ("POST", "/channels/{channel_id}/webhooks"),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"),
)


def default_spec_path() -> Path:
    """Where the spec is expected: ``$DISCORD_OPENAPI_SPEC`` or ``<repo>/../shared/...``."""
    override = os.environ.get("DISCORD_OPENAPI_SPEC")
    if override:
        return Path(override)
    return _REPO_ROOT.parent / "shared" / "discord-api-spec" / "openapi.json"


def _tolerant(node: Any) -> Any:
    """Return a copy of a schema tree with the documented tolerances applied."""
    if isinstance(node, list):
        return [_tolerant(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _tolerant(value) for key, value in node.items()}
    if out.get("format") == "snowflake":
        return {"anyOf": [out, {"type": "integer", "minimum": 0}]}
    props = out.get("properties")
    if isinstance(props, dict) and "default_member_permissions" in props:
        perm = props["default_member_permissions"]
        props["default_member_permissions"] = {"anyOf": [perm, {"type": "string", "pattern": "^[0-9]+$"}]}
    return out


class OpenAPIChecker:
    """Validates JSON bodies of selected operations; one cached validator per operation."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self._components = _tolerant(copy.deepcopy(spec.get("components", {})))
        self._operations: list[tuple[str, re.Pattern[str], str, dict[str, Any]]] = []
        paths: dict[str, Any] = spec.get("paths", {})
        for method, template in VALIDATED_OPERATIONS:
            operation = paths.get(template, {}).get(method.lower())
            if not operation:
                continue
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is None:
                continue
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
            self._operations.append((method, pattern, template, _tolerant(schema)))
        self._validators: dict[str, Draft202012Validator] = {}

    def operation_for(self, method: str, path: str) -> str | None:
        """The path template validated for ``method path`` (path relative to the API base)."""
        for op_method, pattern, template, _ in self._operations:
            if op_method == method and pattern.match(path):
                return template
        return None

    def _validator(self, method: str, template: str) -> Draft202012Validator:
        key = f"{method} {template}"
        validator = self._validators.get(key)
        if validator is None:
            schema = next(s for m, _, t, s in self._operations if m == method and t == template)
            root = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
            root["components"] = self._components
            validator = Draft202012Validator(root)
            self._validators[key] = validator
        return validator

    def validate(self, method: str, path: str, body: Any) -> list[str]:
        """Return human-readable errors (empty when valid or when the operation is not covered)."""
        template = self.operation_for(method, path)
        if template is None:
            return []
        errors: Iterator[ValidationError] = self._validator(method, template).iter_errors(body)
        error = best_match(errors)
        if error is None:
            return []
        where = "/".join(str(p) for p in error.absolute_path) or "<body>"
        return [f"OpenAPI {method} {template}: at {where}: {error.message[:300]}"]


@lru_cache(maxsize=4)
def _load(path: str) -> OpenAPIChecker:
    with open(path, encoding="utf-8") as fh:
        return OpenAPIChecker(json.load(fh))


def load_default() -> OpenAPIChecker | None:
    """The checker for the default spec path, or ``None`` when the spec is not there."""
    path = default_spec_path()
    if not path.is_file():
        return None
    return _load(str(path))
