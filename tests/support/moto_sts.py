"""The tests' loopback STS peer: samljit's own :mod:`samljit.tools.sandbox.sts` (moto's server app
in-process, behind the middleware that records calls and works around moto's multi-role
bug). ``samljit demo`` runs the same code, so the tests exercise what users get.

    with MotoSts() as sts:
        env = {"AWS_ENDPOINT_URL_STS": sts.url}
        ...
        assert sts.calls[-1].role_arn == role_arn
"""

from __future__ import annotations

from samljit.tools.sandbox.sts import MotoSts, StsCall, StsCallRecorder, reduce_roles

__all__ = ["MotoSts", "StsCall", "StsCallRecorder", "reduce_roles"]
