"""The tests' loopback STS peer: samljit's own :mod:`samljit.tools.sandbox.sts` (moto's server app
in-process, behind the middleware that records calls and works around moto's multi-role
bug). ``samljit demo`` runs the same code, so the tests exercise what users get.

One server serves a whole session (starting moto takes a while); a test sees it through a
:class:`StsView`, whose ``calls`` are the calls made since that test began:

    def test_x(sts: StsView) -> None:
        env = {"AWS_ENDPOINT_URL_STS": sts.url}
        ...
        assert sts.calls[-1].role_arn == role_arn  # this test's last call, never an earlier one
"""

from __future__ import annotations

from samljit.tools.sandbox.sts import MotoSts, StsCall, StsCallRecorder, reduce_roles

__all__ = ["MotoSts", "StsCall", "StsCallRecorder", "StsView", "reduce_roles"]


class StsView:
    """A shared :class:`MotoSts` as one test sees it: its ``url``, and ``calls`` counted from
    a mark taken when the view was made (the test's start)."""

    def __init__(self, server: MotoSts) -> None:
        self.server = server
        self.url = server.url
        self._mark = len(server.calls)

    @property
    def calls(self) -> list[StsCall]:
        return self.server.calls[self._mark :]
