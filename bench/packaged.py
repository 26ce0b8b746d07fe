"""Cold starts of the real artifact: the zip `osls package` builds, run by Python 3.12.

The zip is unpacked into a read-only folder (as /var/task is) and each start is a fresh
`python3.12 -S` with only that folder on the path and the function's environment
(DynamoDB and Secrets Manager on the moto server, Cognito faked). Compared side by
side, rounds interleaved:

- packaged: the zip as built, with its unchecked-hash cpython-312 bytecode;
- warm cache: the same code whose bytecode Python wrote itself on an earlier run;
- bare Flask + AWS: a bare Flask app with the AWS start-up a deployment needs (boto3,
  the two secrets, a DynamoDB resource), served from the same packaged folder, so its
  dependencies load from the same bytecode.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import statistics
import subprocess
import tempfile
import time
import zipfile
from collections import defaultdict
from pathlib import Path

from .common import Row
from .common import met
from .harness import ROOT
from .lambda_warm import event

CHILD = ROOT / "bench" / "coldchild.py"
ZIP = ROOT / ".serverless" / "blog.zip"
TARGET_WARM, TARGET_BARE = 1.1, 1.3


def python312() -> str:
    """Python 3.12, as deploy/serverless-lambda-zip.js finds it."""
    for candidate in [os.environ.get("PYTHON312"), shutil.which("python3.12"),
                      *sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))]:
        probe = candidate and subprocess.run(
            [str(candidate), "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True, text=True)
        if probe and probe.stdout.strip() == "(3, 12)":
            return str(candidate)
    raise SystemExit("bench packaged: Python 3.12 is needed (pyenv install 3.12)")


def built_zip() -> Path:
    """The packaged zip: .serverless/blog.zip if present, else package it now."""
    if not ZIP.exists():
        subprocess.run(["npx", "--no-install", "osls", "package"], cwd=ROOT, check=True,
                       env={k: v for k, v in os.environ.items()
                            if not k.startswith("AWS_")} | {
                           "AWS_CONFIG_FILE": os.devnull,
                           "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    return ZIP


def unpack(archive: Path, into: Path) -> int:
    """Unzip `archive` into `into`; return the unpacked size in bytes."""
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(into)
        return sum(info.file_size for info in zipped.infolist())


def read_only(folder: Path, writable: bool = False) -> None:
    """Make `folder` read-only, as /var/task is (or writable again, to delete it)."""
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode | stat.S_IWUSR if writable
                   else mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def start(python: str, task: Path, kind: str, request: dict, env: dict) -> dict:
    """One cold start in a fresh Python 3.12, from `task`: what the child measured."""
    began = time.perf_counter()
    done = subprocess.run(
        [python, "-S", str(CHILD), kind],
        capture_output=True, text=True, timeout=120, cwd=task.parent,
        env={**env, "PYTHONPATH": str(task), "BENCH_EVENT": json.dumps(request)},
    )
    if done.returncode != 0:
        raise RuntimeError(f"packaged start of {kind} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 200, (kind, result)
    return {**result, "wall": time.perf_counter() - began}


def run(backends, cookie: str, quick: bool) -> tuple[list[Row], dict]:
    python, archive = python312(), built_zip()
    work = Path(tempfile.mkdtemp(prefix="bench-packaged-"))
    packaged, warm = work / "task", work / "warm" / "task"
    unpacked = unpack(archive, packaged)
    unpack(archive, warm)
    for cache in list(warm.rglob("__pycache__")):  # Python writes its own, once
        shutil.rmtree(cache)
    env = {k: v for k, v in backends.child_env().items()
           if not k.startswith("PYTHON")}
    start(python, warm, "blog", event("/"), env)
    start(python, warm, "flask+aws", event("/"), env)
    read_only(packaged)
    read_only(warm)
    kinds = {
        "packaged /": (packaged, "blog", event("/")),
        "packaged /posts/": (packaged, "blog", event("/posts/", cookie)),
        "warm /": (warm, "blog", event("/")),
        "warm /posts/": (warm, "blog", event("/posts/", cookie)),
        "bare+aws /": (packaged, "flask+aws", event("/")),
    }
    results: dict[str, list[dict]] = defaultdict(list)
    for r in range(3 if quick else 7):
        for name in list(kinds) if r % 2 == 0 else list(kinds)[::-1]:
            folder, kind, request = kinds[name]
            results[name].append(start(python, folder, kind, request, env))

    def med(name: str, key: str = "total") -> float:
        return statistics.median(r[key] for r in results[name])

    def ratio(top: str, bottom: str, key: str = "total") -> float:
        return statistics.median(
            a[key] / b[key] for a, b in zip(results[top], results[bottom], strict=True))

    def spread(top: str, bottom: str, key: str = "total") -> str:
        values = sorted(a[key] / b[key]
                        for a, b in zip(results[top], results[bottom], strict=True))
        return f"{ratio(top, bottom, key):.2f} [{values[0]:.2f}–{values[-1]:.2f}]"

    def ms(name: str) -> str:
        return f"{med(name) * 1e3:.0f} ms"

    def mib(name: str) -> str:
        return f"{med(name, 'rss_kib') / 1024:.1f} MiB"

    rows = [
        Row("Packaged zip, cold start GET / vs the same code, warm bytecode cache",
            ms("packaged /"), ms("warm /"), spread("packaged /", "warm /"),
            f"≤ {TARGET_WARM}", met(ratio("packaged /", "warm /") <= TARGET_WARM)),
        Row("  guarded GET /posts/ (session, JWKS, query) vs warm cache",
            ms("packaged /posts/"), ms("warm /posts/"),
            spread("packaged /posts/", "warm /posts/"),
            f"≤ {TARGET_WARM}",
            met(ratio("packaged /posts/", "warm /posts/") <= TARGET_WARM)),
        Row("  GET / vs bare Flask + AWS start-up, packaged the same way",
            ms("packaged /"), ms("bare+aws /"), spread("packaged /", "bare+aws /"),
            f"≤ {TARGET_BARE}", met(ratio("packaged /", "bare+aws /") <= TARGET_BARE)),
        Row("  peak memory (VmHWM), GET / vs bare Flask + AWS",
            mib("packaged /"), mib("bare+aws /"),
            spread("packaged /", "bare+aws /", "rss_kib")),
        Row("  zip size / unpacked size",
            f"{archive.stat().st_size / 1e6:.1f} MB", f"{unpacked / 1e6:.1f} MB", ""),
    ]
    read_only(packaged, writable=True)
    read_only(warm, writable=True)
    shutil.rmtree(work)
    return rows, {"results": dict(results), "zip_bytes": archive.stat().st_size,
                  "unpacked_bytes": unpacked}
