import re

import requests


def test_add_user_and_list_users(lc):
    result = lc.cli(
        "add-user", "frank@example.com", "--name", "Frank Fisher",
        "--password", "Long-enough-1", "--group", "admins",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    listing = lc.cli("list-users").output
    assert re.fullmatch(
        r"frank@example.com\tFrank Fisher\t([0-9a-f-]{36})\tadmins\tCONFIRMED\n",
        listing,
    )
    assert lc.login(requests.Session(), lc.flow(), "frank@example.com",
                    "Long-enough-1").status_code == 302


def test_add_user_needs_a_name(lc):
    result = lc.cli("add-user", "gina@example.com", "--password", "Long-enough-1")
    assert result.exit_code != 0 and "--name" in result.output


def test_add_user_enforces_password_policy(lc):
    result = lc.cli(
        "add-user", "gina@example.com", "--name", "Gina", "--password", "Short-pw-1"
    )
    assert result.exit_code != 0
    assert "Password did not conform with policy: Password not long enough" in (
        result.output
    )
    assert "gina" not in lc.cli("list-users").output


def test_add_to_group_shows_in_tokens(lc, alice):
    result = lc.cli("add-to-group", "alice@example.com", "moderators")
    assert result.exit_code == 0
    assert lc.verify(lc.tokens()["id_token"])["cognito:groups"] == ["moderators"]


def test_add_to_group_of_unknown_user(lc):
    result = lc.cli("add-to-group", "nobody", "admins")
    assert result.exit_code != 0 and "No user 'nobody'" in result.output


