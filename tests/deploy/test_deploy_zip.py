"""The Lambda package: built offline from pinned tools, and the zip it holds."""

from __future__ import annotations

import json
import re
import subprocess
import zipfile

import pytest
import yaml

from .build import ROOT
from .build import ZIP
from .build import AnyTagLoader
from .build import no_credentials_env
from .build import python312

MAGIC_312 = (3531).to_bytes(2, "little") + b"\r\n"  # importlib.util.MAGIC_NUMBER


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
    # Lambda runs neither a WSGI server nor type stubs: they are not runtime needs.
    assert not [x for x in lines if re.match(r"(gunicorn|mypy-boto3)", x, re.I)]


def test_zip_holds_only_lambda_binaries(names):
    modules = [n for n in names if re.search(r"\.(so|pyd|dylib)$", n)]
    assert modules
    for name in modules:
        assert re.search(r"\.(cpython-312-x86_64-linux-gnu|abi3)\.so$", name), name
    assert not [n for n in names if n.endswith((".pyo", ".exe", ".dll"))]


def test_every_module_has_unchecked_cpython_312_bytecode(packaged, names):
    """/var/task is read-only: without these, every cold start compiles everything.

    The packager rewrites file times, so only hash-based bytecode that is not checked
    against its source (flags == 1, PEP 552) is used as it is.
    """
    sources = [n for n in names if n.endswith(".py")]
    assert len(sources) > 500 and "blog/auth.py" in sources
    pycs = {n for n in names if n.endswith(".pyc")}
    with zipfile.ZipFile(packaged / ZIP) as archive:
        for source in sources:
            folder, _, module = source.rpartition("/")
            pyc = f"{folder}/__pycache__/{module[:-3]}.cpython-312.pyc".lstrip("/")
            assert pyc in pycs, source
            header = archive.read(pyc)[:8]
            assert header[:4] == MAGIC_312, pyc
            assert int.from_bytes(header[4:8], "little") == 1, pyc
        assert not [n for n in pycs if ".cpython-312." not in n]


def test_zip_holds_the_app_and_runtime_imports(packaged, names):
    for name in (
        "wsgi.py",
        "blog/__init__.py",
        "blog/templates/base.html",
        "blog/static/style.css",
        "blog/storage/schema.sql",
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
        "deploy",
        "bench",
        "loadtest",
        # only a developer's: a WSGI server, type stubs, tools, console scripts
        "gunicorn",
        "mypy_boto3_dynamodb",
        "pip",
        "setuptools",
        "pytest",
        "moto",
        "bin",
    ):
        assert unwanted not in tops, unwanted
    assert not [n for n in names if n.endswith(".pyi") or "/tests/" in n]


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
