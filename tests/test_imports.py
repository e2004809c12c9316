"""Every core module imports on its own, whatever was imported before it (no import cycle hides behind an order).

Each module is imported with every ``ragft.*`` module forgotten first, in one process (third-party packages stay
loaded, so this is quick). A cycle such as a → b → a shows as an ImportError naming the partially initialised module.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import pytest

import ragft


def core_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(ragft.__path__, "ragft.") if not m.name.endswith("__main__"))


def forget_core() -> None:
    for name in [n for n in sys.modules if n == "ragft" or n.startswith("ragft.")]:
        del sys.modules[name]


@pytest.mark.parametrize("module", core_modules())
def test_module_imports_first(module):
    saved = {n: m for n, m in sys.modules.items() if n == "ragft" or n.startswith("ragft.")}
    forget_core()
    try:
        importlib.import_module(module)
    finally:
        forget_core()
        sys.modules.update(saved)  # the rest of the suite keeps the modules (and their state) it already holds


def test_the_core_never_imports_streamlit():
    for module in core_modules():
        importlib.import_module(module)
    offenders = [
        name
        for name, mod in sys.modules.items()
        if name.startswith("ragft") and "streamlit" in (getattr(mod, "__dict__", {}) or {})
    ]
    assert not offenders, offenders
