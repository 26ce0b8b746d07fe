"""The user pool's rules, from pool.json: the file serverless.yml reads for AWS too."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

PATH = Path(__file__).with_name("pool.json")
UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


@cache
def rules() -> dict[str, Any]:
    """Return pool.json, read once per process."""
    return json.loads(PATH.read_text())


def password_policy() -> dict[str, Any]:
    """Return the password policy, in CloudFormation's names."""
    return rules()["passwordPolicy"]


def limits() -> dict[str, int]:
    """Return the attempt limits and code lifetime (Cognito's fixed behaviour)."""
    return rules()["limits"]


def token_seconds() -> int:
    """Return the lifetime of ID and access tokens in seconds."""
    validity = rules()["tokenValidity"]
    unit = UNIT_SECONDS[validity["TokenValidityUnits"]["IdToken"]]
    return int(validity["IdTokenValidity"]) * unit


def attribute_mapping() -> dict[str, str]:
    """The external providers' attribute mapping: pool attribute -> provider claim."""
    return rules()["identityProviders"]["attributeMapping"]


def required_attributes() -> list[str]:
    """The attributes every user must have (the schema's Required ones)."""
    return [a["Name"] for a in rules()["schema"] if a.get("Required")]
