"""Typing helpers of the schema modules: the ``Info`` of our context, and a typed
``@strawberry.field(...)`` for methods.

Under ``mypy --strict`` the decorator form ``@strawberry.field(description=...)`` is typed as
returning ``Any`` ("untyped decorator makes function untyped"); :func:`resolver_field` is the
same call with a precise type, so resolver methods stay checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import strawberry

from gateway.context import Context

F = TypeVar("F", bound=Callable[..., Any])

Info = strawberry.Info[Context, None]
"""The ``info`` of every resolver: ``info.context`` is the request's :class:`Context`."""


def resolver_field(description: str, **options: Any) -> Callable[[F], F]:
    """``@strawberry.field(description=description, **options)`` on a resolver method."""
    return cast(Callable[[F], F], strawberry.field(description=description, **options))
