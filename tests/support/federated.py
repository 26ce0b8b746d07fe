"""Members who sign in through an external provider (Google), as Cognito makes them.

Amazon Cognito Developer Guide: "Understanding the identity (ID) token" (`identities`),
"Adding groups to a user pool" (the automatic group `<user pool id>_<provider>`),
"Mapping IdP attributes to profiles and tokens" (`email_verified` as mapped).
"""

from __future__ import annotations

from typing import Any

from .fakeidp import FakeIdP

GOOGLE_ID = "109876543210987654321"  # the provider's `sub`, 21 digits as Google's


def automatic_group(idp: FakeIdP, provider: str = "Google") -> str:
    """`<user pool id>_<provider>`; the fake Cognito's pool id is its issuer's last
    path segment, as a real pool's is."""
    return f"{idp.issuer.rsplit('/', 1)[1]}_{provider}"


def federated_claims(idp: FakeIdP, provider: str = "Google",
                     user_id: str = GOOGLE_ID, **claims: Any) -> dict[str, Any]:
    """The ID-token claims of a federated member: `<Provider>_<id>` as
    `cognito:username`, the automatic group, `identities` (all strings), no `name`
    unless given; `claims` on top (None leaves one out)."""
    return {
        "cognito:username": f"{provider}_{user_id}",
        "cognito:groups": [automatic_group(idp, provider)],
        "identities": [{
            "userId": user_id, "providerName": provider, "providerType": provider,
            "issuer": None, "primary": "true", "dateCreated": "1767225600000",
        }],
        "email": "gina@example.com",
        "email_verified": "true",
        **claims,
    }
