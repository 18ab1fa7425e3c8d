"""``GATEWAY_<NAME>_FILE``: a secret setting read from a file (Docker and Kubernetes secrets).

For each setting of :data:`SECRET_SETTINGS`, ``GATEWAY_<NAME>_FILE=/run/secrets/x`` sets it to
the file's content, trailing newlines stripped (``echo secret > file`` adds one). Setting both
``GATEWAY_<NAME>`` and ``GATEWAY_<NAME>_FILE`` is an error, and so is a file that cannot be
read: either stops the start with a message naming the variable.

pydantic-settings' own ``secrets_dir`` reads *every* field from files named after it in one
directory; this is the ``_FILE`` convention of container images (postgres, redis) instead, for
the few settings that hold a secret.

Example:
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    ...     _ = f.write("redis://:s3cret@cache:6379\\n")
    >>> read_secret_files({}, {"GATEWAY_REDIS_URL_FILE": f.name})
    {'redis_url': 'redis://:s3cret@cache:6379'}
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

SECRET_SETTINGS = (
    "jwt_secret",
    "cursor_secret",
    "database_url",
    "database_replica_urls",
    "redis_url",
)
"""Settings that may hold a secret (the URLs may carry a password), hence have a ``_FILE``."""

ENV_PREFIX = "GATEWAY_"


def read_secret_files(data: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """``data`` (the settings' input, by field name) with every ``GATEWAY_<NAME>_FILE`` of
    ``environ`` read into its field.

    Raises:
        ValueError: a setting is given both directly and by file, or a file cannot be read.
    """
    merged = dict(data)
    for name in SECRET_SETTINGS:
        variable = f"{ENV_PREFIX}{name.upper()}"
        path = environ.get(f"{variable}_FILE")
        if not path:
            continue
        if merged.get(name) is not None:
            raise ValueError(f"set either {variable} or {variable}_FILE, not both")
        try:
            merged[name] = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{variable}_FILE: cannot read {path!r} ({exc})") from None
    return merged
