"""The boto3 client for Partner Central: credentials, endpoint, botocore's settings.

Its only retries are :class:`bulk_update.api.client.PartnerCentral`'s: botocore
sends each call once.  An endpoint on this machine (the emulator) gets dummy
credentials when the standard chain has none.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlparse

import boto3
import botocore.exceptions as bce
from botocore.config import Config

from bulk_update import errors
from bulk_update.api.errors import CREDENTIAL_ERRORS
from bulk_update.fields import REGION

NO_CREDENTIALS = (
    "no AWS credentials found: run `aws sso login` / set AWS_PROFILE, or pass --profile"
)


def is_loopback(url: str | None) -> bool:
    """True for an endpoint on this machine (the emulator)."""
    host = urlparse(url).hostname if url else None
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_boto_client(
    *,
    profile: str | None,
    endpoint_url: str | None,
    region: str = REGION,
    max_pool: int = 16,
) -> Any:
    """A ``partnercentral-selling`` client whose only retries are ours.

    ``endpoint_url`` (or the standard ``AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING``
    variable, which boto3 reads itself) points it elsewhere.  Credentials come
    from the standard chain; an endpoint on loopback (the emulator) gets dummy
    ones when the chain has none.  Raises ``errors.NoCredentials`` otherwise.
    """
    try:
        session = boto3.Session(profile_name=profile)
    except bce.ProfileNotFound:
        raise errors.NoCredentials(
            f"AWS profile {profile!r} is not in your AWS config: check --profile / AWS_PROFILE"
        ) from None
    config = Config(
        # One attempt per call: botocore's "max_attempts" counts retries after the
        # first (1 would mean two sends), so say "total_max_attempts".
        retries={"total_max_attempts": 1, "mode": "standard"},
        max_pool_connections=max_pool,
        connect_timeout=5,
        read_timeout=30,
    )
    try:
        credentials = session.get_credentials()
    except CREDENTIAL_ERRORS:
        credentials = None
    if credentials is not None:
        return session.client(
            "partnercentral-selling", region_name=region, endpoint_url=endpoint_url, config=config
        )
    # No credentials: fine for the emulator, whose endpoint may also come from the
    # environment, so build the client first and then look where it points.
    client = session.client(
        "partnercentral-selling",
        region_name=region,
        endpoint_url=endpoint_url,
        config=config,
        aws_access_key_id="emulator",
        aws_secret_access_key="emulator",
    )
    if is_loopback(client.meta.endpoint_url):
        return client
    raise errors.NoCredentials(NO_CREDENTIALS)


def unreachable_message(url: str) -> str:
    """The one line for an endpoint nobody answers at."""
    if is_loopback(url):
        return f"cannot reach {url}: is `bulk-update emulator` running?"
    return f"cannot reach {url}: check the network (or proxy) and --endpoint-url"
