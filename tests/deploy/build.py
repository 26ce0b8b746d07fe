"""Where `osls package` puts the template and the zip; how to read and run them."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml


class AnyTagLoader(yaml.SafeLoader):
    """Reads serverless.yml, keeping CloudFormation tags (!Ref, !Sub...) as strings."""


AnyTagLoader.add_multi_constructor("!", lambda loader, tag, node: tag)

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / ".serverless"
TEMPLATE = "cloudformation-template-update-stack.json"
ZIP = "blog.zip"
STATE = "serverless-state.json"
# The second packaging: with a Google client id, as `osls deploy --param=...` would be.
GOOGLE_CLIENT_ID = "abc.apps.googleusercontent.com"
OUT_GOOGLE = ROOT / ".serverless-google"


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
    files = [ROOT / name for name in names] + [
        *(ROOT / "blog").rglob("*"),
        *(ROOT / "deploy").rglob("*"),
    ]
    return [p for p in files if p.is_file() and "__pycache__" not in p.parts]


def stack_parameters(folder: Path) -> dict[str, str]:
    """What `osls deploy` would pass CloudFormation (provider.stackParameters)."""
    state = json.loads((folder / STATE).read_text())
    listed = state["service"]["provider"].get("stackParameters", [])
    return {p["ParameterKey"]: p["ParameterValue"] for p in listed}


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a template, with where it is ("Resources/X/Properties/...")."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{path}/{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}/{index}")
    elif isinstance(value, str):
        yield path, value


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
