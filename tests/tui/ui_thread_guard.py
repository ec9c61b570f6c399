"""A checker for the UI thread rule: no service call on the event loop while the app runs.

`guard_services(monkeypatch)` wraps every public function of every `lumina_tui.services` module that
takes the database, the settings or the runtime (`db`, `settings`, `runtime`: the ones that do I/O;
pure helpers such as `terminal_safe` or `choice_label` take none of them and may run anywhere). It
replaces the function in its module and wherever a `lumina_tui` module imported it by name. A call
is recorded when it runs on a thread with a running asyncio loop (the app's event loop; Textual's
thread workers have none) and was made from the UI code (a frame of `lumina_tui/tui/` is on the
stack: the test's own set-up calls, made from the test body on the same loop, are not the UI's).
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import pkgutil
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

import lumina_tui.services

IO_PARAMETERS = frozenset({"db", "settings", "runtime"})
UI_PATH = "/lumina_tui/tui/"


@dataclass
class LoopCalls:
    """Service calls seen on the event loop from UI code: (function, the UI frame that made it)."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    wrapped: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, name: str, where: str) -> None:
        with self._lock:
            self.calls.append((name, where))


def _ui_caller() -> str | None:
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if UI_PATH in filename.replace("\\", "/"):
            return f"{filename.rsplit(UI_PATH, 1)[1]}:{frame.f_lineno} {frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _on_event_loop() -> bool:
    return asyncio._get_running_loop() is not None


def service_functions() -> list[tuple[str, str, Callable[..., Any]]]:
    """(module, name, function) for every I/O-doing public function of the services."""
    found = []
    for info in pkgutil.iter_modules(lumina_tui.services.__path__):
        module = importlib.import_module(f"lumina_tui.services.{info.name}")
        for name, value in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(value) or value.__module__ != module.__name__:
                continue
            try:
                parameters = inspect.signature(value).parameters
            except (TypeError, ValueError):
                continue
            if IO_PARAMETERS & set(parameters):
                found.append((module.__name__, name, value))
    return found


def guard_services(monkeypatch: pytest.MonkeyPatch) -> LoopCalls:
    seen = LoopCalls()
    replacements: dict[int, Callable[..., Any]] = {}
    for module_name, name, function in service_functions():
        label = f"{module_name.removeprefix('lumina_tui.services.')}.{name}"

        def make(function: Callable[..., Any] = function, label: str = label) -> Callable[..., Any]:
            @functools.wraps(function)
            def checked(*args: Any, **kwargs: Any) -> Any:
                if _on_event_loop():
                    where = _ui_caller()
                    if where is not None:
                        seen.record(label, where)
                return function(*args, **kwargs)

            return checked

        wrapper = make()
        replacements[id(function)] = wrapper
        monkeypatch.setattr(sys.modules[module_name], name, wrapper)
        seen.wrapped += 1
    # Names imported with `from lumina_tui.services.x import f` elsewhere point at the original.
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("lumina_tui.") or module_name.startswith("lumina_tui.services."):
            continue
        for attribute, value in list(vars(module).items()):
            wrapper = replacements.get(id(value))
            if wrapper is not None and inspect.isfunction(value):
                monkeypatch.setattr(module, attribute, wrapper)
    return seen
