"""The packaged template and zip, built once per session (or reused from .ci/run).

Two packagings: the plain one (`.serverless/`, as .ci/run builds it) and one with a
Google client id (`--param="googleClientId=..."`, reused from `.serverless-google/` when
someone built it there). Each is reused only when it is newer than its inputs and was
packaged with the same Google client id, and is copied first: every `osls package`
empties `.serverless/`, whatever `--package` says (build `.serverless-google/` first).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from .build import GOOGLE_CLIENT_ID
from .build import OUT
from .build import OUT_GOOGLE
from .build import ROOT
from .build import STATE
from .build import TEMPLATE
from .build import ZIP
from .build import inputs
from .build import no_credentials_env
from .build import stack_parameters


def package(tmp_path_factory, reuse: Path, google_client_id: str) -> Path:
    """The folder holding the template and the zip, packaged with that client id."""
    newest = max(path.stat().st_mtime for path in inputs())
    built = [reuse / TEMPLATE, reuse / ZIP, reuse / STATE]
    out = tmp_path_factory.mktemp("serverless")
    if all(path.exists() and path.stat().st_mtime > newest for path in built):
        if stack_parameters(reuse).get("GoogleClientId") == google_client_id:
            for path in built:  # the other packaging would empty .serverless/
                shutil.copy2(path, out)
            return out
    osls = ROOT / "node_modules" / ".bin" / "osls"
    if not osls.exists():
        if os.environ.get("CI"):
            pytest.fail("node_modules/.bin/osls is missing: .ci/run must run `npm ci`")
        pytest.skip("the Serverless CLI is not installed here: run `npm ci`")
    params = [f"--param=googleClientId={google_client_id}"] if google_client_id else []
    done = subprocess.run(
        [str(osls), "package", "--package", str(out), *params],
        cwd=ROOT,
        env=no_credentials_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.fixture(scope="session")
def packaged(tmp_path_factory) -> Path:
    """Packaged as `npx osls package`: no Google sign-in."""
    return package(tmp_path_factory, OUT, "")


@pytest.fixture(scope="session")
def packaged_google(tmp_path_factory) -> Path:
    """Packaged as `npx osls package --param="googleClientId=..."`."""
    return package(tmp_path_factory, OUT_GOOGLE, GOOGLE_CLIENT_ID)


@pytest.fixture(scope="session")
def template(packaged) -> dict:
    return json.loads((packaged / TEMPLATE).read_text())


@pytest.fixture(scope="session")
def template_google(packaged_google) -> dict:
    return json.loads((packaged_google / TEMPLATE).read_text())


@pytest.fixture(scope="session")
def names(packaged) -> list[str]:
    with zipfile.ZipFile(packaged / ZIP) as archive:
        return archive.namelist()
