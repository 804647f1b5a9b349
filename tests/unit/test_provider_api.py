"""The provider API v2 (samljit.idp.api): one module of re-exports, the version check of
plugins (v2 loads, v1 is refused with one clear line), the one wait helper, the HTTP client's
cookie methods and the per-account state directory."""

from __future__ import annotations

import ast
import stat
import sys
import time
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from samljit.common.errors import AuthenticationError, ConfigError
from samljit.common.http import HttpClient
from samljit.idp import api
from samljit.idp.provider import PasswordNeed, Plugins
from samljit.testing.fakes import fake_services


def test_the_api_module_holds_re_exported_names_only() -> None:
    tree = ast.parse(Path(api.__file__).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        assert isinstance(node, ast.Assign), ast.unparse(node)
        assert [t.id for t in node.targets if isinstance(t, ast.Name)] == ["__all__"]
    assert api.API_VERSION == 2
    for name in api.__all__:
        assert hasattr(api, name), name


def _plugins_with(monkeypatch: pytest.MonkeyPatch, *points: EntryPoint) -> Plugins:
    monkeypatch.setattr(Plugins, "_entry_points", staticmethod(lambda: list(points)))
    return Plugins()


def _plugin_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, code: str) -> None:
    (tmp_path / f"{name}.py").write_text(code, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)


def test_the_example_plugin_speaks_api_2_and_loads() -> None:
    pytest.importorskip("samljit_example")
    cls = Plugins().load("examplecorp")
    assert cls.name == "ExampleCorp" and cls.api_version == 2
    assert cls.password_need is PasswordNeed.ALWAYS


def test_a_v1_plugin_is_refused_with_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _plugin_module(
        tmp_path,
        monkeypatch,
        "old_v1_plugin",
        "from samljit.idp.provider import Provider\n"
        "class Old(Provider):\n"
        "    name = 'Old'\n"
        "    api_version = 1\n"
        "    needs_password = False\n"
        "    def login(self, secrets):\n"
        "        return ''\n",
    )
    plugins = _plugins_with(
        monkeypatch, EntryPoint("old", "old_v1_plugin:Old", "samljit.providers")
    )
    with pytest.raises(ConfigError) as caught:
        plugins.load("old")
    assert caught.value.message == (
        "provider plugin 'old' (old_v1_plugin:Old) was written for provider API 1; "
        "this samljit speaks API 2"
    )
    assert "samljit.idp.api" in (caught.value.hint or "")


def test_a_v1_plugin_importing_a_moved_module_is_refused_the_same_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _plugin_module(
        tmp_path,
        monkeypatch,
        "old_v1_imports",
        "from samljit.errors import AuthenticationError\n"
        "from samljit.idp.provider import Provider\n"
        "class Old(Provider):\n"
        "    name = 'Old'\n"
        "    api_version = 1\n",
    )
    warned: list[str] = []
    monkeypatch.setattr(
        Plugins,
        "_entry_points",
        staticmethod(lambda: [EntryPoint("old", "old_v1_imports:Old", "samljit.providers")]),
    )
    assert Plugins(warned.append).all() == []
    assert warned == [
        "provider plugin 'old' (old_v1_imports:Old) was written for provider API 1; "
        "this samljit speaks API 2"
    ]


# -- wait_until ----------------------------------------------------------------------------
def _services(tmp_path: Path) -> tuple[Any, Any, Any]:
    return fake_services({"HOME": str(tmp_path)})


def _wait(services: Any, poll: Any, *, seconds: float, every: float, **more: Any) -> Any:
    return api.wait_until(
        poll,
        services=services,
        seconds=seconds,
        every=every,
        waiting=more.pop("waiting", "…"),
        expired=lambda: AuthenticationError("no answer"),
        **more,
    )


def test_wait_until_counts_down_on_the_injected_clock_and_clears_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(time, "sleep", lambda s: pytest.fail("slept for real"))
    services, clock, _ = _services(tmp_path)
    shown: list[str] = []
    monkeypatch.setattr(services.terminal, "status", shown.append)
    cleared: list[bool] = []
    monkeypatch.setattr(services.terminal, "clear_status", lambda: cleared.append(True))
    answers = iter([None, None, "approved"])

    got = api.wait_until(
        lambda waiting: next(answers),
        services=services,
        seconds=10,
        every=3,
        waiting="Waiting for approval…",
        expired=lambda: AuthenticationError("expired"),
    )
    assert got == "approved"
    assert shown == [
        "Waiting for approval… 10 s left",
        "Waiting for approval… 7 s left",
        "Waiting for approval… 4 s left",
    ]
    assert clock.sleeps == [3, 3]
    assert cleared == [True]


def test_wait_until_ends_at_the_deadline_never_sleeping_past_it(tmp_path: Path) -> None:
    services, clock, _ = _services(tmp_path)
    with pytest.raises(AuthenticationError, match="no answer"):
        _wait(services, lambda waiting: None, seconds=5, every=2, sleep_first=True)
    assert clock.sleeps == [2, 2, 1]


def test_a_poll_may_slow_the_wait_down_and_count_its_polls(tmp_path: Path) -> None:
    services, clock, _ = _services(tmp_path)
    seen: list[int] = []

    def poll(waiting: api.Waiting) -> str | None:
        seen.append(waiting.polls)
        waiting.every += 5
        return "done" if waiting.polls == 3 else None

    _wait(services, poll, seconds=600, every=5, sleep_first=True)
    assert seen == [1, 2, 3]
    assert clock.sleeps == [5, 10, 15]


def test_an_error_of_the_poll_clears_the_line_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services, _, _ = _services(tmp_path)
    cleared: list[bool] = []
    monkeypatch.setattr(services.terminal, "clear_status", lambda: cleared.append(True))

    def poll(waiting: api.Waiting) -> None:
        raise AuthenticationError("denied on the phone")

    with pytest.raises(AuthenticationError, match="denied"):
        _wait(services, poll, seconds=60, every=1)
    assert cleared == [True]


# -- cookies and state ---------------------------------------------------------------------
def test_the_http_client_reads_sets_and_drops_cookies_by_host() -> None:
    http = HttpClient(env={})
    http.set_cookie("DT", "device", host="acme.okta.com")
    http.set_cookie("sid", "s1", host="acme.okta.com")
    http.set_cookie("sid", "other", host="elsewhere.example")
    assert http.cookie("DT", "acme.okta.com") == "device"
    assert http.cookie("DT", "elsewhere.example") is None
    http.drop_cookies("sid", "acme.okta.com")
    assert http.cookie("sid", "acme.okta.com") is None
    assert http.cookie("sid", "elsewhere.example") == "other"
    http.drop_cookies()
    assert http.cookie("sid", "elsewhere.example") is None
    assert http.cookie("DT", "acme.okta.com") is None


def test_state_dir_is_the_accounts_own_private_directory(tmp_path: Path) -> None:
    services, _, _ = _services(tmp_path)
    account = type("A", (), {"name": "prod"})()
    path = services.state_dir(account)
    assert path == tmp_path / ".local" / "state" / "samljit" / "accounts" / "prod"
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    odd = services.state_dir(type("A", (), {"name": "../../etc"})())
    assert odd.parent == path.parent and ".." not in odd.name
