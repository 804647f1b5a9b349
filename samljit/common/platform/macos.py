"""macOS: POSIX, but its own cache and state directories (``~/Library``), browsers in app
bundles, windows always shown, and ``open`` to open a page."""

from __future__ import annotations

import os

from samljit.common.platform.posix import PATH_BROWSERS, Posix, home

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

#: The app bundles' programs of each ``browser_type``, under an Applications folder.
APP_BUNDLES: dict[str, tuple[str, ...]] = {
    "chromium": (
        "Chromium.app/Contents/MacOS/Chromium",
        "Google Chrome.app/Contents/MacOS/Google Chrome",
        "Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
    ),
    "chrome": ("Google Chrome.app/Contents/MacOS/Google Chrome",),
    "msedge": ("Microsoft Edge.app/Contents/MacOS/Microsoft Edge",),
}


class MacOS(Posix):
    name = "darwin"
    browser_trust_via_nss = False
    #: The system's Applications folder (the user's ``~/Applications`` is looked at after it).
    applications = "/Applications"

    def own_cache_dir(self, env: Mapping[str, str]) -> str:
        return os.path.join(home(env), "Library", "Caches", "samljit")

    def own_state_dir(self, env: Mapping[str, str]) -> str:
        wanted = os.path.join(home(env), "Library", "Application Support", "samljit")
        # Earlier samljit kept its state where Linux does: keep using it when it is there.
        legacy = os.path.join(home(env), ".local", "state", "samljit")
        if not os.path.isdir(wanted) and os.path.isdir(legacy):
            return legacy
        return wanted

    def has_display(self, env: Mapping[str, str]) -> bool:
        return True

    def open_url(self, url: str) -> bool:
        import subprocess

        try:
            done = subprocess.run(["open", url], stdin=subprocess.DEVNULL, check=False)
        except OSError:
            return False
        return done.returncode == 0

    def browser_candidates(self, browser_type: str, env: Mapping[str, str]) -> list[str]:
        folders = [self.applications, os.path.join(home(env), "Applications")]
        bundles = [os.path.join(f, app) for f in folders for app in APP_BUNDLES[browser_type]]
        return [*PATH_BROWSERS[browser_type], *bundles]

    def browser_looked_for(self, browser_type: str) -> str:
        return (
            f"looked for {', '.join(PATH_BROWSERS[browser_type])} on PATH and its app in "
            "/Applications and ~/Applications"
        )
