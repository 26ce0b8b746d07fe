"""Sign in with Google: an identity provider only when deployed with a client id.

A CloudFormation condition decides at deploy, so the provider is in both packagings;
what these tests check is the condition, what hangs on it, and that the packaging with
`--param="googleClientId=..."` hands the client id to the stack (docs/DEPLOY.md,
"Sign in with Google").
"""

from __future__ import annotations

import json

from blog.localcognito import pool as localpool

from .build import GOOGLE_CLIENT_ID
from .build import environment
from .build import resource
from .build import stack_parameters
from .build import strings

PROVIDER = "GoogleIdentityProvider"
HAS_GOOGLE = {"Fn::Not": [{"Fn::Equals": [{"Ref": "GoogleClientId"}, ""]}]}
SECRET_REFERENCE = {
    "Fn::Sub": "{{resolve:secretsmanager:${GoogleClientSecretName}"
    ":SecretString:client_secret}}"
}


def when_google(value: dict) -> tuple:
    """(with Google, without) of an `Fn::If` on HasGoogle."""
    condition, with_google, without = value["Fn::If"]
    assert condition == "HasGoogle"
    return with_google, without


def test_google_exactly_when_a_client_id_is_given(template):
    parameter = template["Parameters"]["GoogleClientId"]
    assert (parameter["Type"], parameter["Default"]) == ("String", "")  # no Google
    assert template["Conditions"]["HasGoogle"] == HAS_GOOGLE
    provider = template["Resources"][PROVIDER]
    assert provider["Type"] == "AWS::Cognito::UserPoolIdentityProvider"
    assert provider["Condition"] == "HasGoogle"
    assert "DependsOn" not in provider
    google = [
        name for name, r in template["Resources"].items()
        if r["Type"] == "AWS::Cognito::UserPoolIdentityProvider"
    ]
    assert google == [PROVIDER]  # the only one, and conditional


def test_the_provider_is_google_on_this_pool(template):
    provider = resource(template, PROVIDER)
    assert provider["UserPoolId"] == {"Ref": "UserPool"}
    assert (provider["ProviderName"], provider["ProviderType"]) == ("Google", "Google")
    assert provider["ProviderDetails"] == {
        "client_id": {"Ref": "GoogleClientId"},
        "client_secret": SECRET_REFERENCE,
        "authorize_scopes": "openid email profile",  # space-separated for Google
    }
    # The pool requires email and name; email_verified keeps a Google email verified.
    assert provider["AttributeMapping"] == {
        "email": "email", "email_verified": "email_verified", "name": "name"}
    # The local Cognito federates its look-alikes with the same mapping.
    assert provider["AttributeMapping"] == localpool.rules()["identityProviders"][
        "attributeMapping"]
    required = {a["Name"] for a in localpool.rules()["schema"] if a["Required"]}
    assert required <= set(provider["AttributeMapping"])


def test_the_client_secret_is_read_from_secrets_manager_at_deploy(template):
    """Never a value in the template, and never ssm-secure (not for Cognito)."""
    name = template["Parameters"]["GoogleClientSecretName"]
    assert (name["Type"], name["Default"]) == ("String", "blog/dev/google")
    references = [(path, text) for path, text in strings(template) if "{{" in text]
    assert references == [
        (f"Resources/{PROVIDER}/Properties/ProviderDetails/client_secret/Fn::Sub",
         SECRET_REFERENCE["Fn::Sub"])
    ]
    secrets = [path for path, _ in strings(template) if "client_secret" in path]
    assert secrets == [references[0][0]]
    assert "ssm-secure" not in json.dumps(template)


def test_the_function_gets_no_google_secret(template):
    env = environment(template)
    text = json.dumps(env)
    assert "{{resolve:" not in text and "GoogleClientSecretName" not in text
    # Only the providers' names reach it: nothing else about Google.
    others = json.dumps({k: v for k, v in env.items()
                         if k != "BLOG_COGNITO_IDENTITY_PROVIDERS"})
    assert "google" not in others.lower()
    # Nor may its role read the Google secret (test_deploy_template checks the role).
    role = json.dumps(
        [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"])
    assert "GoogleClientSecretName" not in role and "google" not in role.lower()


def test_the_app_client_offers_google_only_when_the_pool_has_it(template):
    client = resource(template, "UserPoolClient")
    with_google, without = when_google(client["SupportedIdentityProviders"])
    # Ref of the provider is its name ("Google"), and makes the client wait for it.
    assert with_google == ["COGNITO", {"Ref": PROVIDER}]
    assert without == ["COGNITO"]
    assert "DependsOn" not in template["Resources"]["UserPoolClient"]


def test_the_app_client_may_write_what_google_maps(template):
    """Cognito fails a federated sign-in that updates an attribute the client can't."""
    client = resource(template, "UserPoolClient")
    with_google, without = when_google(client["WriteAttributes"])
    written = localpool.rules()["writeAttributes"]
    assert without == written
    mapped = set(resource(template, PROVIDER)["AttributeMapping"])
    assert set(with_google) == set(written) | mapped
    schema = {a["Name"]: a for a in resource(template, "UserPool")["Schema"]}
    for attribute in mapped - {"email_verified"}:  # and the pool lets them change
        assert schema[attribute]["Mutable"] is True


def test_the_blog_is_told_which_providers_the_pool_has(template):
    env = environment(template)
    with_google, without = when_google(env["BLOG_COGNITO_IDENTITY_PROVIDERS"])
    assert with_google == {"Ref": PROVIDER} and without == ""
    assert resource(template, PROVIDER)["ProviderName"] == "Google"


def test_the_deploy_parameter_reaches_the_stack(packaged, packaged_google):
    """`--param="googleClientId=..."` becomes the GoogleClientId stack parameter."""
    plain, google = stack_parameters(packaged), stack_parameters(packaged_google)
    assert plain["GoogleClientId"] == ""
    assert google["GoogleClientId"] == GOOGLE_CLIENT_ID
    for parameters in (plain, google):
        assert parameters["GoogleClientSecretName"] == "blog/dev/google"
        assert set(parameters) == {"AlarmEmail", "GoogleClientId",
                                   "GoogleClientSecretName"}


def test_the_client_id_decides_at_deploy_not_in_the_template(template, template_google):
    """Both packagings hold the same Google parts: the condition decides."""
    for part in ("Parameters", "Conditions"):
        assert template_google[part] == template[part]
    for name in (PROVIDER, "UserPoolClient", "UserPoolDomain"):
        assert template_google["Resources"][name] == template["Resources"][name]
    assert environment(template_google) == environment(template)
    assert GOOGLE_CLIENT_ID not in json.dumps(template_google)
