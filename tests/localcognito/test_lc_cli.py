import re

import requests


def test_add_user_and_list_users(lc):
    lc.add_user("frank", "admins")
    listing = lc.cli("list-users").output
    assert re.search(
        r"frank\tCONFIRMED\tfrank@example.com\tadmins\t[0-9a-f-]{36}", listing
    )


def test_add_user_enforces_password_policy(lc):
    result = lc.cli("add-user", "gina", "--email", "g@example.com", "--password", "pw")
    assert result.exit_code != 0
    assert "Password must have at least 8 characters." in result.output
    assert "gina" not in lc.cli("list-users").output


def test_add_to_group_shows_in_tokens(lc, alice):
    result = lc.cli("add-to-group", "alice", "moderators")
    assert result.exit_code == 0
    assert lc.verify(lc.tokens()["id_token"])["cognito:groups"] == ["moderators"]


def test_add_to_group_of_unknown_user(lc):
    result = lc.cli("add-to-group", "nobody", "admins")
    assert result.exit_code != 0 and "No user 'nobody'" in result.output


def test_rotate_keys_publishes_a_second_key(lc):
    before = requests.get(lc.url("/.well-known/jwks.json")).json()["keys"]
    result = lc.cli("rotate-keys")
    after = requests.get(lc.url("/.well-known/jwks.json")).json()["keys"]
    assert result.exit_code == 0 and after[-1]["kid"] in result.output
    assert [k["kid"] for k in after[:-1]] == [k["kid"] for k in before]
