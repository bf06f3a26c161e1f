"""Credentials, region, endpoint and addressing style for the store, found the AWS way.

Precedence, as the AWS CLI and SDKs have it:

* keys: ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` (/ ``AWS_SESSION_TOKEN``), then the
  profile's keys in the shared credentials file (``AWS_SHARED_CREDENTIALS_FILE``, else
  ``~/.aws/credentials``), then in the config file (``AWS_CONFIG_FILE``, else ``~/.aws/config``).
  The profile is ``AWS_PROFILE`` (or ``AWS_DEFAULT_PROFILE``), else ``default``. With none
  of these the client looks where the SDKs look next (web identity, container and instance
  credentials).
* region: ``AWS_REGION``, ``AWS_DEFAULT_REGION``, the profile's ``region``, else ``us-east-1``.
* endpoint: ``AWS_ENDPOINT_URL_S3``, ``AWS_ENDPOINT_URL``, then the profile's ``s3`` section's
  ``endpoint_url`` and its own ``endpoint_url`` (none of them when
  ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` is true); else AWS itself.
* addressing: the profile's ``s3`` section's ``addressing_style`` (``path`` or ``virtual``);
  else path-style for a configured endpoint (MinIO, Ceph RGW and SeaweedFS need it) and
  virtual-hosted for AWS.

A profile that gets its keys from a program or a login (``credential_process``, SSO, a role
to assume) is refused with how to export them: obstore reads static keys only.
The secret is held in a field kept out of ``repr`` and never put into a message.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import UsageError

_TRUE = ("1", "true", "yes", "on")
_EXTERNAL = ("credential_process", "sso_session", "sso_start_url", "role_arn", "web_identity_token_file")


@dataclass(frozen=True)
class S3Settings:
    region: str
    endpoint: str | None
    path_style: bool
    profile: str | None
    #: Where the keys came from ("environment", "profile NAME in FILE"), for messages; None: none found here.
    keys_from: str | None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or os.path.expanduser("~"))


def _read(path: Path) -> configparser.ConfigParser | None:
    parser = configparser.ConfigParser(interpolation=None, default_section="\0none")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})", hint="check the file's permissions") from None
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        first = str(exc).splitlines()[0]
        raise UsageError(f"{path}: not an AWS config file ({first})",
                         hint="see `aws configure` for its format") from None
    return parser


def _nested(value: str | None) -> dict[str, str]:
    """An AWS config sub-section (``s3 =`` followed by indented ``key = value`` lines)."""
    out: dict[str, str] = {}
    for line in (value or "").splitlines():
        key, sep, val = line.partition("=")
        if sep:
            out[key.strip()] = val.strip()
    return out


def settings(env: Mapping[str, str]) -> S3Settings:
    """The store's settings from ``env`` and the shared files it points at."""
    named = env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE")
    profile = named or "default"
    config_file = Path(env.get("AWS_CONFIG_FILE") or _home(env) / ".aws" / "config")
    creds_file = Path(env.get("AWS_SHARED_CREDENTIALS_FILE") or _home(env) / ".aws" / "credentials")
    config = _read(config_file)
    creds = _read(creds_file)
    section = "default" if profile == "default" else f"profile {profile}"
    conf: Mapping[str, str] = config[section] if config is not None and config.has_section(section) else {}
    cred: Mapping[str, str] = creds[profile] if creds is not None and creds.has_section(profile) else {}
    if named and not conf and not cred:
        raise UsageError(f"AWS_PROFILE={named}: no such profile in {config_file} or {creds_file}",
                         hint=f"add [profile {named}] to {config_file} (`aws configure --profile {named}`), "
                              "or unset AWS_PROFILE")
    s3 = _nested(conf.get("s3"))
    if config is not None and (services := conf.get("services")) and config.has_section(f"services {services}"):
        s3 = {**_nested(config[f"services {services}"].get("s3")), **s3}

    keys_from: str | None = None
    key = secret = token = None
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        key, secret, token = env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env.get("AWS_SESSION_TOKEN")
        keys_from = "the environment (AWS_ACCESS_KEY_ID)"
    else:
        for where, values in ((creds_file, cred), (config_file, conf)):
            if values.get("aws_access_key_id") and values.get("aws_secret_access_key"):
                key, secret = values["aws_access_key_id"], values["aws_secret_access_key"]
                token = values.get("aws_session_token")
                keys_from = f"profile {profile} in {where}"
                break
        else:
            if external := next((k for k in _EXTERNAL if conf.get(k)), None):
                raise UsageError(
                    f"profile {profile} in {config_file} gets its keys through {external}, which zoofind's S3 "
                    "client does not run",
                    hint=f"export them first: eval \"$(aws configure export-credentials --profile {profile} "
                         "--format env)\"")

    ignore = env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() in _TRUE
    endpoint = (env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or s3.get("endpoint_url")
                or conf.get("endpoint_url") or None)
    if ignore:
        endpoint = None
    if endpoint is not None and not endpoint.lower().startswith(("http://", "https://")):
        raise UsageError(f"the S3 endpoint {endpoint!r} is not an http:// or https:// URL",
                         hint="set AWS_ENDPOINT_URL_S3=https://HOST:PORT (or http:// on a trusted network)")
    style = s3.get("addressing_style", "auto").lower()
    if style not in ("auto", "path", "virtual"):
        raise UsageError(f"{config_file}: addressing_style = {style} (profile {profile}) is not path, virtual or auto")
    path_style = style == "path" or (style == "auto" and endpoint is not None)
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or conf.get("region") or "us-east-1"
    return S3Settings(region, endpoint.rstrip("/") if endpoint else None, path_style, named, keys_from,
                      key, secret, token)
