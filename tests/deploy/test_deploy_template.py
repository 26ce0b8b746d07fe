"""The CloudFormation template that serverless.yml packages to."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from blog import config
from blog.localcognito import pool as localpool
from blog.storage.dynamodb import TABLE_SHAPE

from .build import TEMPLATE
from .build import environment
from .build import listed
from .build import only
from .build import resource
from .build import statements

BASE_URL = {
    "Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
}


def test_http_api_sends_payload_1_0(template):
    assert (
        only(template, "AWS::ApiGatewayV2::Integration")["PayloadFormatVersion"]
        == "1.0"
    )
    assert only(template, "AWS::ApiGatewayV2::Stage")["StageName"] == "$default"


def test_function(template):
    function = only(template, "AWS::Lambda::Function")
    assert function["Runtime"] == "python3.12" and function["Handler"] == "wsgi.handler"
    assert function["Timeout"] < 30  # the HTTP API gives up at 30 s
    assert function["Architectures"] == ["x86_64"]


def test_sessions_table_declares_its_ttl(template):
    table = resource(template, "SessionsTable")
    assert table["TimeToLiveSpecification"] == {
        "AttributeName": "expiration",
        "Enabled": True,
    }
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["BillingMode"] == "PAY_PER_REQUEST"


def test_posts_table_is_what_the_store_expects(template):
    table = resource(template, "PostsTable")
    for key in ("BillingMode", "KeySchema", "GlobalSecondaryIndexes"):
        assert table[key] == TABLE_SHAPE[key], key
    by_name = {a["AttributeName"]: a for a in table["AttributeDefinitions"]}
    assert list(by_name.values()) == TABLE_SHAPE["AttributeDefinitions"]
    indexes = {index["IndexName"]: [key["AttributeName"] for key in index["KeySchema"]]
               for index in table["GlobalSecondaryIndexes"]}
    assert indexes == {"by_created": ["kind", "created_at"],
                       "drafts": ["draft_of", "created_at"],
                       "listings": ["listed_in", "created_at"]}


def test_role_reaches_only_the_tables_secrets_and_images(template):
    allowed = {
        "s3": [
            {"Fn::Sub": "${MediaBucket.Arn}/media/*"},
            {"Fn::GetAtt": ["MediaBucket", "Arn"]},
        ],
        "dynamodb": [
            {"Fn::GetAtt": ["SessionsTable", "Arn"]},
            {"Fn::GetAtt": ["PostsTable", "Arn"]},
            {"Fn::Sub": "${PostsTable.Arn}/index/*"},
        ],
        "secretsmanager": [{"Ref": "FlaskSecretKey"}, {"Ref": "CognitoClientSecret"}],
    }
    granted: dict[str, set[str]] = {}
    for statement in statements(template):
        assert statement["Effect"] == "Allow" and "*" not in listed(
            statement["Resource"]
        )
        for action in listed(statement["Action"]):
            service, verb = action.split(":")
            assert "*" not in verb and verb != "CreateTable", action
            if service in allowed:
                assert all(r in allowed[service] for r in listed(statement["Resource"]))
                granted.setdefault(service, set()).add(verb)
    assert granted == {
        "dynamodb": {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query",
                     "BatchGetItem"},
        "secretsmanager": {"GetSecretValue"},
        "s3": {"PutObject", "GetObject", "DeleteObject", "ListBucket"},
    }
    for statement in statements(template):  # the bucket itself: listing media/ only
        if {"Fn::GetAtt": ["MediaBucket", "Arn"]} in listed(statement["Resource"]):
            assert listed(statement["Action"]) == ["s3:ListBucket"]
            assert statement["Condition"] == {"StringLike": {"s3:prefix": ["media/*"]}}
    # A page's author names: one batch read of member items in the posts table.
    batch = [listed(s["Resource"]) for s in statements(template)
             if "dynamodb:BatchGetItem" in listed(s["Action"])]
    assert len(batch) == 1 and {"Fn::GetAtt": ["PostsTable", "Arn"]} in batch[0]
    assert {"Fn::GetAtt": ["SessionsTable", "Arn"]} not in batch[0]


def known_settings() -> set[str]:
    return set(config.STRING_SETTINGS) | set(config.DEFAULTS)


def test_every_setting_is_wired(template):
    env = environment(template)
    known = known_settings()
    assert {name[len("BLOG_") :] for name in env} <= known
    for name in config.REQUIRED_WITH_ISSUER + (
        "COGNITO_ISSUER",
        "SESSION_TABLE",
        "POSTS_TABLE",
        "ADMIN_GROUP",
    ):
        assert env.get("BLOG_" + name), name
    assert env["BLOG_SESSION_TYPE"] == "dynamodb"
    assert env["BLOG_SESSION_TABLE"] == {"Ref": "SessionsTable"}
    assert env["BLOG_POSTS_TABLE"] == {"Ref": "PostsTable"}
    assert env["BLOG_BASE_URL"] == BASE_URL
    # The JWKS URL is pinned to the pool's issuer, so no discovery fetch at cold start.
    issuer = env["BLOG_COGNITO_ISSUER"]["Fn::Sub"]
    jwks_url = issuer + "/.well-known/jwks.json"
    assert env["BLOG_COGNITO_JWKS_URL"] == {"Fn::Sub": jwks_url}
    assert (
        resource(template, "AdminsGroup")["GroupName"] == config.DEFAULTS["ADMIN_GROUP"]
    )


def test_secrets_are_references_not_values(template):
    env = environment(template)
    assert env["BLOG_SECRET_KEY"] == {"Fn::Sub": "secretsmanager:${FlaskSecretKey}"}
    assert env["BLOG_COGNITO_CLIENT_SECRET"] == {
        "Fn::Sub": "secretsmanager:${CognitoClientSecret}"
    }
    text = json.dumps(env)  # neither the attribute nor a dynamic reference in the env
    assert ".ClientSecret" not in text and '"ClientSecret"]' not in text
    assert "{{resolve:" not in text
    assert resource(template, "CognitoClientSecret")["SecretString"] == {
        "Fn::GetAtt": ["UserPoolClient", "ClientSecret"]
    }


def test_callback_and_sign_out_urls_match_the_app(template):
    client = resource(template, "UserPoolClient")
    base = BASE_URL["Fn::Sub"]
    assert client["CallbackURLs"] == [{"Fn::Sub": base + "/auth/authorize"}]
    assert client["LogoutURLs"] == [{"Fn::Sub": base + "/"}]


def test_user_pool_and_client(template):
    pool, client = resource(template, "UserPool"), resource(template, "UserPoolClient")
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["GenerateSecret"] is True and client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert sorted(client["AllowedOAuthScopes"]) == ["email", "openid", "profile"]
    assert client["EnableTokenRevocation"] is True
    # The pool's own sign-in; Google's too when deployed with it (test_deploy_google).
    assert client["SupportedIdentityProviders"]["Fn::If"][1][0] == "COGNITO"
    assert client["SupportedIdentityProviders"]["Fn::If"][2] == ["COGNITO"]
    assert resource(template, "UserPoolDomain")["UserPoolId"] == {"Ref": "UserPool"}


def test_pool_rules_are_those_the_local_cognito_enforces(template):
    """One source of truth: blog/localcognito/pool.json, read by both."""
    pool, client = resource(template, "UserPool"), resource(template, "UserPoolClient")
    rules = localpool.rules()
    assert pool["Policies"]["PasswordPolicy"] == rules["passwordPolicy"]
    assert pool["UsernameAttributes"] == rules["usernameAttributes"]
    assert pool["Schema"] == rules["schema"]
    assert client["AllowedOAuthScopes"] == rules["oauthScopes"]
    assert client["ReadAttributes"] == rules["readAttributes"]
    validity = {k: client[k] for k in rules["tokenValidity"]}
    assert validity == rules["tokenValidity"]


def test_members_give_a_name_the_app_can_read(template):
    pool, client = resource(template, "UserPool"), resource(template, "UserPoolClient")
    (name,) = [a for a in pool["Schema"] if a["Name"] == "name"]
    assert name == {"Name": "name", "AttributeDataType": "String",
                    "Required": True, "Mutable": True}
    assert {"name", "email", "email_verified"} <= set(client["ReadAttributes"])
    _, with_google, without = client["WriteAttributes"]["Fn::If"]
    for written in (with_google, without):
        assert {"name", "email"} <= set(written)  # sign-up sets them


def test_tokens_live_15_minutes_and_refresh_tokens_30_days(template):
    """A revoked refresh token's access tokens work on the API for 15 min at most."""
    client = resource(template, "UserPoolClient")
    assert (client["IdTokenValidity"], client["AccessTokenValidity"]) == (15, 15)
    assert client["RefreshTokenValidity"] == 30  # Cognito's default, kept
    assert client["TokenValidityUnits"] == {
        "IdToken": "minutes", "AccessToken": "minutes", "RefreshToken": "days"}


def test_outputs(template):
    outputs = template["Outputs"]
    assert outputs["BlogUrl"]["Value"] == {"Fn::Sub": BASE_URL["Fn::Sub"] + "/"}
    assert outputs["UserPoolId"]["Value"] == {"Ref": "UserPool"}
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": "UserPoolClient"}
    assert (
        outputs["HostedUiDomain"]["Value"]
        == environment(template)["BLOG_COGNITO_DOMAIN"]
    )


@pytest.mark.parametrize("packaging", ["packaged", "packaged_google"])
def test_cfn_lint_passes(request, packaging):
    """Both packagings, as .ci/run lints the plain one (docs/DEPLOY.md)."""
    folder = request.getfixturevalue(packaging)
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    done = subprocess.run(
        [str(cfn_lint), "--ignore-checks", "W3005", "--", str(folder / TEMPLATE)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_media_bucket_is_private_encrypted_and_without_acls(template):
    bucket = resource(template, "MediaBucket")
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True,
        "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert bucket["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    encryption = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in (
        "AES256", "aws:kms")
    assert "BucketName" not in bucket  # generated: lowercase, no dots
    policy = resource(template, "MediaBucketPolicy")["PolicyDocument"]["Statement"]
    assert [s["Effect"] for s in policy] == ["Deny"]  # TLS only; nothing granted
    assert environment(template)["BLOG_MEDIA_BUCKET"] == {"Ref": "MediaBucket"}


def test_a_daily_schedule_invokes_the_function_for_the_image_cleanup(template):
    rule = only(template, "AWS::Events::Rule")
    assert rule["ScheduleExpression"] == "rate(1 day)"
    assert rule["State"] == "ENABLED" and "Input" not in rule["Targets"][0]
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["WebLambdaFunction", "Arn"]}
    permission = [r["Properties"] for r in template["Resources"].values()
                  if r["Type"] == "AWS::Lambda::Permission"
                  and r["Properties"]["Principal"] == "events.amazonaws.com"]
    assert len(permission) == 1
