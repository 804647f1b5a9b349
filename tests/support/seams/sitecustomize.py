"""The test seams of the installed samljit, kept out of the product.

samljit itself reads no test setting: the security-key lookup is the USB HID list, and nobody
reaches into the browser it drives. samljit's own end-to-end tests run the installed CLI as a
subprocess with this directory on ``PYTHONPATH`` (``tests.support.paths.seams_env``); Python
imports ``sitecustomize`` at start-up, and this one swaps, as samljit's modules load:

* ``SAMLJIT_TEST_CTAP_DEVICE=<module:factory>``: :func:`samljit.idp.fido.find_devices`
  returns ``factory(os.environ)`` (the software CTAP2 key of ``tests.support.softkey``);
* ``SAMLJIT_TEST_BROWSER_HOOK=<module:function>``: the Browser provider calls
  ``function(context, page)`` right before its sign-in starts (Chromium's virtual WebAuthn
  authenticator of ``tests.support.passkey``).

Outside the test tree the directory is not on ``PYTHONPATH``, so these variables mean nothing
to samljit (``test_the_former_test_switches_mean_nothing_to_samljit`` in tests/e2e/test_fido.py
and ``test_the_former_browser_hook_means_nothing_to_samljit`` in tests/e2e/test_browser.py
prove it). Nothing here is part of the samljit wheel.
"""

from __future__ import annotations

import importlib
import importlib.abc
import os
import sys
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

DEVICE = "SAMLJIT_TEST_CTAP_DEVICE"
BROWSER_HOOK = "SAMLJIT_TEST_BROWSER_HOOK"


def _named(spec: str) -> Callable[..., Any]:
    module, _, name = spec.partition(":")
    if not module or not name:
        raise SystemExit(f"sitecustomize: {spec!r} is not <module:function>")
    found: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return found


def _devices(module: ModuleType) -> None:
    spec = os.environ[DEVICE]

    def find_devices() -> list[Any]:
        return list(_named(spec)(os.environ))

    module.find_devices = find_devices  # type: ignore[attr-defined]


def _browser(module: ModuleType) -> None:
    spec = os.environ[BROWSER_HOOK]
    session = module._Session
    run = session.run

    def hooked(self: Any, context: Any, patterns: Any) -> str:
        page = context.pages[0] if context.pages else context.new_page()
        _named(spec)(context, page)
        result: str = run(self, context, patterns)
        return result

    session.run = hooked


class _Patched(importlib.abc.Loader):
    """A module's own loader, then the patch."""

    def __init__(self, loader: Any, patch: Callable[[ModuleType], None]) -> None:
        self._loader = loader
        self._patch = patch

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        created: ModuleType | None = self._loader.create_module(spec)
        return created

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        self._patch(module)

    def __getattr__(self, name: str) -> Any:  # get_source, get_resource_reader, ...
        return getattr(self._loader, name)


class _AfterImport(importlib.abc.MetaPathFinder):
    """Finds each patched module with the finders after it, and patches it once loaded."""

    def __init__(self, patches: dict[str, Callable[[ModuleType], None]]) -> None:
        self.patches = patches

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        patch = self.patches.pop(fullname, None)
        if patch is None:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec: ModuleSpec | None = find(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _Patched(spec.loader, patch)
                return spec
        return None


def _install() -> None:
    patches: dict[str, Callable[[ModuleType], None]] = {}
    if os.environ.get(DEVICE):
        patches["samljit.idp.fido"] = _devices
    if os.environ.get(BROWSER_HOOK):
        patches["samljit.providers.browser.session"] = _browser
    if patches:
        sys.meta_path.insert(0, _AfterImport(patches))


def _chain() -> None:
    """Runs the ``sitecustomize`` this one shadows, if any (a distribution's, coverage's)."""
    import runpy

    here = os.path.dirname(os.path.abspath(__file__))
    for entry in filter(None, sys.path):
        folder = os.path.abspath(entry)
        candidate = os.path.join(folder, "sitecustomize.py")
        if folder != here and os.path.isfile(candidate):
            runpy.run_path(candidate, run_name="sitecustomize")
            return


_install()
_chain()
