"""Any other IdP that signs users in through plain HTML forms: the engine's generic rules
only (the form with the password input, common field names, common error markup)."""

from __future__ import annotations

from typing import ClassVar

from samljit.idp.api import GENERIC, Flavor, FormProvider


class GenericFormProvider(FormProvider):
    name: ClassVar[str] = "GenericForm"
    flavor: ClassVar[Flavor] = GENERIC
