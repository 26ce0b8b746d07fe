"""serverless.yml as packaged offline by `npx osls package`: the template and the zip.

The fixture reuses `.serverless/` when it is newer than its inputs (.ci/run packages
first) and otherwise packages into a temporary folder, with no AWS credentials in reach
(lambda.md §5-§7).
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from blog import config
from blog.storage.dynamodb import TABLE_SHAPE

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".serverless"
TEMPLATE = "cloudformation-template-update-stack.json"
ZIP = "blog.zip"
BASE_URL = {
    "Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
}


def no_credentials_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {
        **env,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def inputs() -> list[Path]:
    names = ["serverless.yml", "package-lock.json", "requirements.txt", "wsgi.py"]
    files = [ROOT / name for name in names] + list((ROOT / "blog").rglob("*"))
    return [p for p in files if p.is_file() and "__pycache__" not in p.parts]


@pytest.fixture(scope="session")
def packaged(tmp_path_factory) -> Path:
    """The folder holding the template and the zip."""
    newest = max(path.stat().st_mtime for path in inputs())
    built = [OUT / TEMPLATE, OUT / ZIP]
    if all(path.exists() and path.stat().st_mtime > newest for path in built):
        return OUT
    out = tmp_path_factory.mktemp("serverless")
    osls = ROOT / "node_modules" / ".bin" / "osls"
    if not osls.exists():
        if os.environ.get("CI"):
            pytest.fail("node_modules/.bin/osls is missing: .ci/run must run `npm ci`")
        pytest.skip("the Serverless CLI is not installed here: run `npm ci`")
    done = subprocess.run(
        [str(osls), "package", "--package", str(out)],
        cwd=ROOT,
        env=no_credentials_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.fixture(scope="session")
def template(packaged) -> dict:
    return json.loads((packaged / TEMPLATE).read_text())


@pytest.fixture(scope="session")
def names(packaged) -> list[str]:
    with zipfile.ZipFile(packaged / ZIP) as archive:
        return archive.namelist()


def only(template: dict, kind: str) -> dict:
    (resource,) = [r for r in template["Resources"].values() if r["Type"] == kind]
    return resource["Properties"]


def resource(template: dict, name: str) -> dict:
    return template["Resources"][name]["Properties"]


def environment(template: dict) -> dict:
    return only(template, "AWS::Lambda::Function")["Environment"]["Variables"]


def statements(template: dict) -> list[dict]:
    role = only(template, "AWS::IAM::Role")
    return [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]


def listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


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


def test_role_reaches_only_the_tables_and_secrets(template):
    allowed = {
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
        "dynamodb": {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"},
        "secretsmanager": {"GetSecretValue"},
    }


def test_every_setting_is_wired(template):
    env = environment(template)
    known = set(config.STRING_SETTINGS) | set(config.DEFAULTS)
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
    assert client["GenerateSecret"] is True and client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert sorted(client["AllowedOAuthScopes"]) == ["email", "openid", "profile"]
    assert client["EnableTokenRevocation"] is True
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    assert resource(template, "UserPoolDomain")["UserPoolId"] == {"Ref": "UserPool"}


def test_outputs(template):
    outputs = template["Outputs"]
    assert outputs["BlogUrl"]["Value"] == {"Fn::Sub": BASE_URL["Fn::Sub"] + "/"}
    assert outputs["UserPoolId"]["Value"] == {"Ref": "UserPool"}
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": "UserPoolClient"}
    assert (
        outputs["HostedUiDomain"]["Value"]
        == environment(template)["BLOG_COGNITO_DOMAIN"]
    )


def test_cfn_lint_passes(packaged):
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    done = subprocess.run(
        [str(cfn_lint), "--ignore-checks", "W3005", "--", str(packaged / TEMPLATE)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


class AnyTagLoader(yaml.SafeLoader):
    """Reads serverless.yml, keeping CloudFormation tags (!Ref, !Sub...) as strings."""


AnyTagLoader.add_multi_constructor("!", lambda loader, tag, node: tag)


def test_serverless_yml_packages_offline():
    text = (ROOT / "serverless.yml").read_text()
    code = re.sub(r"(^|\s)#.*", "", text)  # comments may name what is refused
    assert not re.search(
        r"\$\{(ssm|cf|aws|s3|secretsmanager):", code
    )  # need credentials
    settings = yaml.load(text, Loader=AnyTagLoader)
    extra = settings["custom"]["pythonRequirements"]["pipCmdExtraArgs"]
    assert all(isinstance(arg, str) for arg in extra) and "--only-binary=:all:" in extra
    assert settings["provider"]["httpApi"]["payload"] == "1.0"


def test_cli_is_pinned():
    package = json.loads((ROOT / "package.json").read_text())
    tools = package["devDependencies"]
    assert re.fullmatch(r"4\.\d+\.\d+", tools["osls"])
    assert re.fullmatch(r"6\.\d+\.\d+", tools["serverless-python-requirements"])
    assert "serverless" not in tools and "dependencies" not in package
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/osls"]["version"] == tools["osls"]


def test_requirements_name_the_right_packages():
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    assert "aws-wsgi==0.2.7" in lines and not any(
        re.match(r"awsgi\b", x) for x in lines
    )
    assert any(line.startswith("mypy-boto3-dynamodb") for line in lines)


def test_zip_holds_only_lambda_binaries(names):
    modules = [n for n in names if re.search(r"\.(so|pyd|dylib)$", n)]
    assert modules
    for name in modules:
        assert re.search(r"\.(cpython-312-x86_64-linux-gnu|abi3)\.so$", name), name
    assert not [n for n in names if n.endswith((".pyc", ".pyo", ".exe", ".dll"))]


def test_zip_holds_the_app_and_runtime_imports(packaged, names):
    for name in (
        "wsgi.py",
        "blog/__init__.py",
        "blog/templates/base.html",
        "blog/static/style.css",
        "blog/storage/schema.sql",
        "mypy_boto3_dynamodb/__init__.py",
        "flask_session/dynamodb/dynamodb.py",
        "msgspec/__init__.py",
        "awsgi/__init__.py",
    ):
        assert name in names, name
    with zipfile.ZipFile(packaged / ZIP) as archive:
        assert b"def response(app, event, context" in archive.read("awsgi/__init__.py")


def test_zip_leaves_out_what_lambda_must_not_get(names):
    tops = {name.split("/")[0] for name in names}
    for unwanted in (
        "tests",
        "node_modules",
        ".venv",
        "venv",
        "instance",
        ".env",
        ".serverless",
        ".git",
        "package.json",
        "serverless.yml",
        "docs",
    ):
        assert unwanted not in tops, unwanted
    assert not [n for n in names if "__pycache__" in n]


def python312() -> str | None:
    candidates = [
        shutil.which("python3.12"),
        "/usr/bin/python3.12",
        *glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python3.12")),
    ]
    for path in filter(os.path.exists, filter(None, candidates)):
        done = subprocess.run(
            [path, "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if done.stdout.strip() == "(3, 12)":
            return path
    return None


def test_unpacked_zip_serves_on_python_3_12(packaged, tmp_path):
    python = python312()
    if python is None:
        pytest.skip("no Python 3.12 here to run the cp312 package with")
    with zipfile.ZipFile(packaged / ZIP) as archive:
        archive.extractall(tmp_path / "task")
    env = {
        **no_credentials_env(),
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONPATH": str(tmp_path / "task"),
        "BLOG_COGNITO_ISSUER": "https://cognito-idp.us-east-1.amazonaws.com/pool",
        "BLOG_COGNITO_CLIENT_ID": "id",
        "BLOG_COGNITO_CLIENT_SECRET": "secret",
        "BLOG_COGNITO_DOMAIN": "https://blog.auth.us-east-1.amazoncognito.com",
        "BLOG_BASE_URL": "https://abc.execute-api.us-east-1.amazonaws.com",
        "BLOG_SECRET_KEY": "k" * 32,
        "BLOG_SESSION_TYPE": "dynamodb",
        "BLOG_SESSION_TABLE": "sessions",
        "BLOG_POSTS_TABLE": "posts",
    }
    event = {
        "version": "1.0",
        "httpMethod": "GET",
        "path": "/healthz",
        "headers": {"host": "abc.execute-api.us-east-1.amazonaws.com"},
        "queryStringParameters": None,
        "requestContext": {"stage": "$default"},
        "body": None,
        "isBase64Encoded": False,
    }
    script = (
        "import json, sys, wsgi, msgspec; print(msgspec.__file__); "
        f"print(json.dumps(wsgi.handler({event!r}, None)))"
    )
    done = subprocess.run(
        [python, "-S", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    where, answer = done.stdout.splitlines()[-2:]
    assert where.startswith(str(tmp_path / "task"))
    assert json.loads(answer)["statusCode"] == 200
