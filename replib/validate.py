"""Argument checks shared by the builders of systems: each raises a ValueError that says
what was wrong and what is allowed, instead of a traceback from deep inside a run."""

from __future__ import annotations

import math


def whole_number(name: str, value, low: int, high: int | None = None) -> int:
    """``value`` must be an int (not a bool) from ``low`` to ``high`` (None: no upper bound)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (
            high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be a whole number {bound}, got {value!r}")
    return value


def finite_time(name: str, value, zero_ok: bool = False) -> float:
    """``value`` must be a finite number > 0 (>= 0 with ``zero_ok``): a delay or a timeout."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not (value >= 0 if zero_ok else value > 0):
        raise ValueError(f"{name} must be a finite number {'>= 0' if zero_ok else '> 0'}, "
                         f"got {value!r}")
    return value


def subclass_of(name: str, cls, base: type) -> type:
    """``cls`` must be ``base`` or a subclass of it; None means ``base`` itself."""
    if cls is None:
        return base
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ValueError(f"{name} must be {base.__name__} or a subclass of it, got {cls!r}")
    return cls
