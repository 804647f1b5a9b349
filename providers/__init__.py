"""samljit's built-in IdP providers (installed as ``samljit.providers``)."""
