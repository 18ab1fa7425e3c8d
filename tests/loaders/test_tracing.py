"""Every dataloader's batch is traced (gateway/loaders/tracing.py): a new loader that forgets
``@traced_batch`` fails here."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager

from aiodataloader import DataLoader

import gateway.loaders
from gateway.loaders import tracing


def _loader_classes() -> set[type[DataLoader[object, object]]]:
    for module in pkgutil.iter_modules(gateway.loaders.__path__):
        importlib.import_module(f"gateway.loaders.{module.name}")
    found: set[type[DataLoader[object, object]]] = set()
    todo: list[type[DataLoader[object, object]]] = [DataLoader]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("gateway.loaders.") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def test_every_batch_load_fn_is_traced() -> None:
    classes = _loader_classes()
    assert len(classes) >= 7
    untraced = [
        cls.__qualname__
        for cls in classes
        if not hasattr(cls.batch_load_fn, "__wrapped__")  # what traced_batch leaves
    ]
    assert untraced == []


class _Loader(DataLoader[int, int]):
    @tracing.traced_batch
    async def batch_load_fn(self, keys: list[int]) -> list[int]:
        return [key * 2 for key in keys]


async def test_a_batch_runs_inside_the_installed_span() -> None:
    opened: list[tuple[str, int]] = []

    @contextmanager
    def span(loader: str, keys: int) -> Iterator[object]:
        opened.append((loader, keys))
        yield None

    assert await _Loader().load_many([1, 2]) == [2, 4]  # nothing installed: straight through
    assert opened == []
    tracing.install_batch_span(span)
    try:
        assert await _Loader().load_many([1, 2, 3]) == [2, 4, 6]
    finally:
        tracing.install_batch_span(None)
    assert opened == [("_Loader", 3)]
