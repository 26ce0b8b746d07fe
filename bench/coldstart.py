"""Cold start: import `wsgi`, serve a first request, fresh processes; vs bare Flask.

Each start is a new interpreter with the Lambda function's environment (DynamoDB and
Secrets Manager on a local moto server, Cognito faked on 127.0.0.1); kinds are
interleaved round by round. `python -X importtime` names the largest imports.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import defaultdict

from .common import Row
from .common import met
from .harness import ROOT
from .lambda_warm import event

CHILD = str(ROOT / "bench" / "coldchild.py")
TARGET = 1.5


def start(kind: str, request: dict, env: dict, *flags: str) -> dict:
    """One cold start in a fresh interpreter: what it measured, wall time, log."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *flags, CHILD, kind],
        capture_output=True,
        text=True,
        env={**env, "BENCH_EVENT": json.dumps(request)},
        cwd=ROOT,
        timeout=120,
    )
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"cold start of {kind} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 200, (kind, result)
    return {**result, "wall": wall, "log": done.stderr}


def run(backends, cookie: str, quick: bool) -> tuple[list[Row], dict]:
    env = backends.child_env()
    kinds = {
        "blog /": ("blog", event("/")),
        "blog /posts/": ("blog", event("/posts/", cookie)),
        "flask /": ("flask", event("/")),
        "flask+aws /": ("flask+aws", event("/")),
        "flask+deps /": ("flask+deps", event("/")),
    }
    results: dict[str, list[dict]] = defaultdict(list)
    rounds = 3 if quick else 9
    for r in range(rounds):
        for name in list(kinds) if r % 2 == 0 else list(kinds)[::-1]:
            kind, request = kinds[name]
            results[name].append(start(kind, request, env))
    log = start("blog", kinds["blog /posts/"][1], env, "-X", "importtime")["log"]
    imports = import_costs(log)

    def med(name: str, key: str, scale: float = 1e3, unit: str = "ms") -> str:
        value = statistics.median(r[key] for r in results[name]) * scale
        return f"{value:.0f} {unit}" if unit == "ms" else f"{value:.1f} {unit}"

    def ratio(name: str, base: str, key: str = "total") -> float:
        return statistics.median(
            a[key] / b[key] for a, b in zip(results[name], results[base], strict=True)
        )

    def fmt(name: str, base: str, key: str = "total") -> str:
        values = sorted(
            a[key] / b[key] for a, b in zip(results[name], results[base], strict=True)
        )
        low, high = (
            statistics.quantiles(values, n=4)[::2]
            if len(values) > 3
            else (values[0], values[-1])
        )
        return f"{ratio(name, base, key):.2f} [{low:.2f}–{high:.2f}]"

    mib = (1 / 1024, "MiB")
    rows = [
        Row(
            "Cold start: import wsgi + first request (GET /) vs bare Flask",
            med("blog /", "total"),
            med("flask /", "total"),
            fmt("blog /", "flask /"),
            f"≤ {TARGET}",
            met(ratio("blog /", "flask /") <= TARGET),
        ),
        Row(
            "  same vs bare Flask + the AWS start-up it needs (boto3, 2 secrets, "
            "DynamoDB)",
            med("blog /", "total"),
            med("flask+aws /", "total"),
            fmt("blog /", "flask+aws /"),
            f"≤ {TARGET}",
            met(ratio("blog /", "flask+aws /") <= TARGET),
        ),
        Row(
            "  same vs bare Flask + AWS start-up + importing the blog's dependencies",
            med("blog /", "total"),
            med("flask+deps /", "total"),
            fmt("blog /", "flask+deps /"),
        ),
        Row(
            "  of which import wsgi (create_app included) vs building the bare app",
            med("blog /", "import"),
            med("flask /", "import"),
            fmt("blog /", "flask /", "import"),
        ),
        Row(
            "  first request GET / (warm imports) vs bare Flask's",
            med("blog /", "first"),
            med("flask /", "first"),
            fmt("blog /", "flask /", "first"),
        ),
        Row(
            "Cold start to a guarded GET /posts/ (+ session read, discovery, JWKS, "
            "query)",
            med("blog /posts/", "total"),
            med("flask /", "total"),
            fmt("blog /posts/", "flask /"),
        ),
        Row(
            "Peak memory (VmHWM) after the first request, GET / vs bare Flask",
            med("blog /", "rss_kib", *mib),
            med("flask /", "rss_kib", *mib),
            fmt("blog /", "flask /", "rss_kib"),
        ),
        Row(
            "  same vs bare Flask + AWS start-up",
            med("blog /", "rss_kib", *mib),
            med("flask+aws /", "rss_kib", *mib),
            fmt("blog /", "flask+aws /", "rss_kib"),
        ),
    ]
    return rows, {"imports": imports, "results": dict(results)}


def without_bytecode(backends, quick: bool) -> tuple[list[Row], dict]:
    """Cold starts as the deployed zip runs them: no .pyc for the app or its packages.

    serverless.yml packages with `pip --no-compile` and /var/task is read-only, so
    Lambda compiles every module of the app and its dependencies at each cold start (the
    runtime's own standard library is precompiled). Here a pycache prefix that holds
    only the standard library's bytecode reproduces that.
    """
    env = backends.child_env()
    request = event("/")
    prefix = tempfile.mkdtemp(prefix="bench-pycache-")
    listing = os.path.join(prefix, "modules.txt")
    start("blog", request, {**env, "BENCH_MODULES": listing})
    stdlib = sysconfig.get_paths()["stdlib"]
    site = sysconfig.get_paths()["purelib"]
    with open(listing) as file:
        sources = [
            f
            for f in file.read().split("\n")
            if f.startswith(stdlib) and not f.startswith(site) and f.endswith(".py")
        ]
    subprocess.run(
        [
            sys.executable,
            "-X",
            f"pycache_prefix={prefix}",
            "-c",
            "import py_compile, sys\nfor f in sys.argv[1:]: py_compile.compile(f)",
            *sources,
        ],
        check=True,
        capture_output=True,
    )
    cold = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    flags = ("-X", f"pycache_prefix={prefix}")
    results: dict[str, list[dict]] = defaultdict(list)
    for r in range(2 if quick else 3):
        for kind in ("blog", "blog-nopyc", "flask-nopyc")[:: 1 if r % 2 == 0 else -1]:
            child = kind.split("-")[0]
            results[kind].append(
                start(
                    child,
                    request,
                    cold if "nopyc" in kind else env,
                    *(flags if "nopyc" in kind else ()),
                )
            )

    def med(kind: str) -> float:
        return statistics.median(r["total"] for r in results[kind])

    def fmt(top: str, bottom: str) -> str:
        values = sorted(
            a["total"] / b["total"]
            for a, b in zip(results[top], results[bottom], strict=True)
        )
        return f"{statistics.median(values):.2f} [{values[0]:.2f}–{values[-1]:.2f}]"

    rows = [
        Row(
            "Cold start GET / without .pyc (as packaged) vs with .pyc",
            f"{med('blog-nopyc') * 1e3:.0f} ms",
            f"{med('blog') * 1e3:.0f} ms",
            fmt("blog-nopyc", "blog"),
        ),
        Row(
            "  bare Flask without .pyc, for scale",
            f"{med('flask-nopyc') * 1e3:.0f} ms",
            "",
            "",
        ),
    ]
    return rows, {"results": dict(results), "stdlib_modules_compiled": len(sources)}


def import_costs(log: str, top: int = 10) -> dict:
    """Self time of each import in an `-X importtime` log, summed per package."""
    per_package: dict[str, float] = defaultdict(float)
    total = 0.0
    for line in log.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or not fields[0].strip().isdigit():
            continue
        seconds = int(fields[0]) / 1e6
        per_package[fields[2].strip().split(".")[0]] += seconds
        total += seconds
    ranked = sorted(per_package.items(), key=lambda kv: -kv[1])[:top]
    return {"total": total, "top": ranked}
