"""Secrets named by reference: `secretsmanager:<id or ARN>` or `ssm:<parameter name>`.

On Lambda the function's configuration holds only these references; the values are read
once at start-up (a cold start) with the function's own role, so no secret sits in
the function's configuration. `config.check` turns `UnreadableSecret` into the
start-up message.
"""

from __future__ import annotations

from typing import Any

SECRET_SETTINGS = ("SECRET_KEY", "COGNITO_CLIENT_SECRET")


class UnreadableSecret(Exception):
    """BLOG_<name> holds a `reference` that could not be read, for `reason`."""

    def __init__(self, name: str, reference: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name, self.reference, self.reason = name, reference, reason


def resolve(config: Any) -> None:
    """Replace each reference in the secret settings by the value it names."""
    clients: dict[str, Any] = {}  # one boto3 client per service, not per secret
    for name in SECRET_SETTINGS:
        value = config.get(name)
        if isinstance(value, str) and value.startswith(("secretsmanager:", "ssm:")):
            config[name] = read(name, value, clients)


def read(name: str, reference: str, clients: dict[str, Any]) -> str:
    """The secret `reference` names; `UnreadableSecret` if it cannot be read."""
    import boto3
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    kind, _, key = reference.partition(":")
    try:
        if not key:
            raise ValueError("the reference names nothing")
        if kind not in clients:
            clients[kind] = boto3.client(kind)
        if kind == "secretsmanager":
            value = clients[kind].get_secret_value(SecretId=key).get("SecretString")
        else:
            value = clients[kind].get_parameter(
                Name=key, WithDecryption=True)["Parameter"]["Value"]
    except ClientError as error:
        reason = error.response["Error"].get("Code") or "refused"
    except (BotoCoreError, ValueError) as error:
        reason = str(error)
    else:
        if isinstance(value, str) and value:
            return value
        reason = "it holds no text value"
    raise UnreadableSecret(name, reference, reason)
