"""A role matrix in a file (``GATEWAY_ROLE_MATRIX_FILE``), and the default matrix as one.

The file (YAML, or JSON which is YAML too) maps each key to the roles allowed::

    # Everything not listed is denied.
    Query.viewer: [SUPER_ADMIN, PLATFORM_ADMIN, INGESTER]
    Workspace.activeUsers: [SUPER_ADMIN, PLATFORM_ADMIN]
    Workspace.targetApps(orderBy:): [SUPER_ADMIN]   # passing the argument
    Merchant.*: [SUPER_ADMIN, SUPERAPP_ADMIN]      # every field of a type
    Metric: inherit                                # value type: as readable as its parent

``gateway matrix`` prints the default matrix in this form, a starting point for an edited
copy. The file replaces the default matrix entirely; it is validated when the server starts
(unknown roles here, unknown types, fields and arguments when the schema is built).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import yaml

from gateway.authz.matrix import DEFAULT_MATRIX, MatrixError, RoleMatrix
from gateway.roles import Role

INHERIT = "inherit"
"""The value marking a value type whose fields inherit their parent field's access."""

_KEY = re.compile(r"^[A-Za-z_]\w*(\.(\*|[A-Za-z_]\w*(\([A-Za-z_]\w*:\))?))?$")
_ROLE_ORDER = list(Role)


def _roles(key: str, value: object) -> frozenset[Role]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MatrixError(f"{key}: expected a list of role names or {INHERIT!r}")
    unknown = sorted(set(value) - set(Role.__members__))
    if unknown:
        known = ", ".join(Role.__members__)
        raise MatrixError(f"{key}: unknown role {unknown[0]!r} (roles: {known})")
    return frozenset(Role(v) for v in value)


def parse_matrix(entries: object) -> RoleMatrix:
    """The matrix of a parsed file (a mapping as described in the module docstring).

    Raises:
        MatrixError: the content is not such a mapping, or names an unknown role.
    """
    if not isinstance(entries, dict):
        raise MatrixError("a role matrix file must map schema coordinates to role lists")
    fields: dict[str, frozenset[Role]] = {}
    wildcard: dict[str, frozenset[Role]] = {}
    inherited: set[str] = set()
    for key, value in entries.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise MatrixError(
                f"{key!r} is not `Type`, `Type.*`, `Type.field` or `Type.field(arg:)`"
            )
        type_name, dot, rest = key.partition(".")
        if not dot:
            if value != INHERIT:
                raise MatrixError(f"{key}: a bare type name takes {INHERIT!r}")
            inherited.add(type_name)
        elif rest == "*":
            wildcard[type_name] = _roles(key, value)
        else:
            fields[key] = _roles(key, value)
    return RoleMatrix(MappingProxyType(fields), frozenset(inherited), MappingProxyType(wildcard))


def load_matrix(path: Path) -> RoleMatrix:
    """Read and parse a matrix file.

    Raises:
        MatrixError: unreadable, not YAML, or invalid; the message names the file.
    """
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MatrixError(f"cannot read role matrix file {path}: {exc}") from exc
    try:
        return parse_matrix(entries)
    except MatrixError as exc:
        raise MatrixError(f"role matrix file {path}: {exc}") from exc


def configured_matrix(path: Path | None) -> RoleMatrix:
    """The matrix of ``GATEWAY_ROLE_MATRIX_FILE`` (``path``), or the default one when unset."""
    return DEFAULT_MATRIX if path is None else load_matrix(path)


def dump_matrix(matrix: RoleMatrix) -> str:
    """``matrix`` in the file format (what ``gateway matrix`` prints)."""

    def names(roles: frozenset[Role]) -> str:
        return "[" + ", ".join(r.value for r in sorted(roles, key=_ROLE_ORDER.index)) + "]"

    lines = [
        "# Role matrix (GATEWAY_ROLE_MATRIX_FILE format). Everything not listed is denied.",
        "# `Type: inherit` = a value type, readable wherever the field returning it is.",
    ]
    items: Mapping[str, str] = {
        **{f"{t}.*": names(r) for t, r in matrix.wildcard.items()},
        **{c: names(r) for c, r in matrix.fields.items()},
        **dict.fromkeys(matrix.inherited, INHERIT),
    }
    lines.extend(f"{key}: {value}" for key, value in sorted(items.items()))
    return "\n".join(lines) + "\n"
