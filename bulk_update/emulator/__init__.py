"""A local stand-in for the AWS Partner Central Selling API.

It speaks AWS JSON 1.0 on loopback so that an unchanged boto3 client, given
``endpoint_url``, works against it; it keeps opportunities per catalog (with
their owners and related entities, and the account's registered users and
solutions), enforces the service's optimistic locking, review-status locks,
business rules and per-operation quotas, answers SearchOpportunities, and can
inject faults on purpose.  It does not check signatures and knows nothing of
engagements or bulk jobs.

    from bulk_update.emulator import Emulator
    with Emulator(seed="samples/opportunities.json", write_rate=1000) as emu:
        ...  # boto3.client("partnercentral-selling", endpoint_url=emu.url, ...)
"""

from .service import Emulator, serve
from .validation import Newer

__all__ = ["Emulator", "Newer", "serve"]
