"""SimpleSAMLphp 1.19 and 2.x (``core:loginuserpass``): one username/password form.

``url``: ``{base}/simplesaml/saml2/idp/SSOService.php?spentityid=urn:amazon:webservices``.
"""

from __future__ import annotations

from typing import ClassVar

from samljit.idp.api import Flavor, FormProvider

SIMPLESAMLPHP = Flavor(
    name="SimpleSAMLphp",
    login_forms=("form[name=f]",),
    # 2.x (Twig) and 1.19 with the new UI; 1.19's classic page: the box with the error icon
    error_selectors=(".message-box.error", "div:has(> img.erroricon) p"),
)


class SimpleSamlPhpProvider(FormProvider):
    name: ClassVar[str] = "SimpleSAMLphp"
    flavor: ClassVar[Flavor] = SIMPLESAMLPHP
