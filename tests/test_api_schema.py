"""Property-based run of the OpenAPI document against the live API (schemathesis).

The blog runs in local mode on a real loopback server, the token comes from the local
Cognito through `flask api-token`, and every answer must be no 5xx and match the
document that /api/openapi.json serves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st

from blog.api.schema import document
from blog.storage import Post
from blog.storage import encode_cursor
from tests.support.clients import clear_blog_settings
from tests.support.localsite import BrowsedSite
from tests.support.localsite import api_token

EXAMPLES = 50  # per operation and phase: variety enough, and well under a minute
QUICK = settings(max_examples=EXAMPLES, deadline=None, database=None,
                 suppress_health_check=list(HealthCheck))
# Loaded at import, as schemathesis' pytest plugin needs; the test below checks that
# the live server serves this very document.
schema = schemathesis.openapi.from_dict(document(write_scope=None))
# The document's own format for cursors: values `next_cursor` can take.
schemathesis.openapi.format("cursor", st.builds(
    lambda ms, uuid: encode_cursor(Post(str(uuid), "", "", "", "", ms, ms, "", "", "")),
    st.integers(0, 2**53 - 1), st.uuids()))
cases: Counter[str] = Counter()
live_token = {"value": ""}  # set by the `live` fixture
# The token is ours to send (it exists only once the server runs), not to generate.
schema.config.generation.update(with_security_parameters=False)


def bearer() -> dict[str, str]:
    return {"Authorization": f"Bearer {live_token['value']}"}


@pytest.fixture(scope="module")
def live(tmp_path_factory, pytestconfig) -> Iterator[str]:
    """The served blog's URL, with alice's token; reports how many cases ran."""
    # Module-scoped, so set up before the autouse clean_environment of the first test
    # runs: it clears the BLOG_* variables itself. (The JWKS cache needs no reset here:
    # the autouse fresh_jwks empties it around every test, this server's keys included.)
    with pytest.MonkeyPatch.context() as patch:
        clear_blog_settings(patch)
        site = BrowsedSite(tmp_path_factory.mktemp("api"))
    site.add_user("alice@example.com")
    live_token["value"] = api_token(site, "alice@example.com")
    yield site.base
    site.close()
    report = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    if report and cases:
        report.write_line(f"schemathesis ran {sum(cases.values())} cases: " + ", ".join(
            f"{label} {count}" for label, count in sorted(cases.items())))


def test_live_server_serves_the_tested_document(live) -> None:
    served = requests.get(live + "/api/openapi.json", timeout=10)
    assert served.json() == schema.raw_schema


@schema.parametrize()
@QUICK
def test_every_operation_conforms(case, live) -> None:
    case.call_and_validate(base_url=live, headers=bearer())
    cases[case.operation.label] += 1


def test_workflows_conform(live) -> None:
    """Create, read, edit and delete posts through the document's links."""
    class Workflow(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"base_url": live, "headers": bearer()}

        def after_call(self, response, case):
            cases["workflow " + case.operation.label] += 1
            outcomes[case.operation.label, response.status_code] += 1

    outcomes: Counter[tuple[str, int]] = Counter()
    Workflow.run(settings=settings(QUICK, max_examples=20, stateful_step_count=6))
    # The links took the workflows to real posts, not only to 404s.
    assert outcomes["PATCH /api/posts/{post_id}", 200] > 0
    assert outcomes["DELETE /api/posts/{post_id}", 204] > 0
