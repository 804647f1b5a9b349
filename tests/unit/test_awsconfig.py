"""Which profiles of the AWS config file run a credential_process (samljit.sinks.awsconfig)."""

from __future__ import annotations

from pathlib import Path

from samljit.sinks.awsconfig import config_file, process_profiles, shadowed_process

CONFIG = """\
[default]
Credential_Process = samljit credential-process -a default

[profile  production ]
region = us-east-2
credential_process: samljit credential-process -a production

[profile keys-only]
region = us-east-2

[sso-session corp]
credential_process = not a profile

[bare]
credential_process = botocore reads no profile from a section without "profile "
"""


def test_profiles_with_a_credential_process(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(CONFIG)
    assert process_profiles(path) == {"default", "production"}
    assert process_profiles(tmp_path / "missing") == set()
    path.write_text("key before any section = 1\n")
    assert process_profiles(path) == set()  # unreadable: only a warning depends on it


def test_only_the_credentials_file_the_sdks_read_shadows(tmp_path: Path) -> None:
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "config").write_text(CONFIG)
    env = {"HOME": str(tmp_path)}
    assert config_file(env) == tmp_path / ".aws" / "config"
    written = tmp_path / ".aws" / "credentials"
    assert shadowed_process("production", written, env) == tmp_path / ".aws" / "config"
    assert shadowed_process("keys-only", written, env) is None
    assert shadowed_process("production", tmp_path / "other-credentials", env) is None
    moved = {**env, "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "other-credentials")}
    assert shadowed_process("production", tmp_path / "other-credentials", moved) is not None
