"""The packaged template and zip, built once per session (or reused from .ci/run)."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from .build import OUT
from .build import ROOT
from .build import TEMPLATE
from .build import ZIP
from .build import inputs
from .build import no_credentials_env


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
