"""`python -m bench [--quick] [--only NAME ...]`: run the benchmarks, print a table."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time

SECTIONS = (
    "verifier", "naive", "guarded", "render", "media", "lambda", "coldstart", "nopyc",
    "packaged",
)


def machine() -> str:
    model = "unknown CPU"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        total_kib = int(meminfo.readline().split()[1])
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} CPUs ({model}), {total_kib / 1024**2:.1f} GiB RAM, "
        f"Python {platform.python_version()} on {platform.system()} "
        f"{platform.release()}; load average {load:.1f} at start"
    )


def table(rows) -> str:
    lines = [
        "| comparison | ours | baseline | ratio [IQR or range] | target | met |",
        "|---|---:|---:|---:|---|---|",
    ]
    lines += [
        f"| {r.name} | {r.ours} | {r.baseline} | {r.ratio} | {r.target} | {r.met} |"
        for r in rows
    ]
    return "\n".join(lines)


def findings(extra: dict) -> str:
    out = []
    if "verifier" in extra:
        v = extra["verifier"]
        out.append(
            f"Verifier profile (cProfile, {v['token_length']}-char token), share of "
            "its time by package:"
        )
        out += [
            f"  {share:6.1%}  {name}" for name, share in v["profile_shares"].items()
        ]
        out.append(
            f"  by timing: PyJWT's per-character segment check "
            f"{v['per_char'] * 1e6:.0f} µs, our code beyond jwt.decode "
            f"{v['own'] * 1e6:.0f} µs, RSA {v['bare'] * 1e6:.0f} µs"
        )
        out.append("  hottest functions:")
        out += [f"  {share:6.1%}  {name}" for name, share in v["profile_top"]]
    if "guarded" in extra:
        g = extra["guarded"]
        out.append(
            f"Guarded request overhead: {g['tiny_overhead'] * 1e6:.0f} µs per request "
            f"(session load {g['session_cost'] * 1e6:.0f} µs, ID-token check "
            f"{g['token_cost'] * 1e6:.0f} µs); on the posts page "
            f"{g['page_overhead'] * 1e6:.0f} µs. Discovery fetched "
            f"{g['discovery_fetches']}×, JWKS cache fetches "
            f"{g['jwks_cache_fetches']}."
        )
    if "naive" in extra:
        n = extra["naive"]
        out.append(
            f"Naive verification made {n['naive_fetches']} JWKS downloads for "
            f"{n['naive_calls']} verifications."
        )
    if "nopyc" in extra:
        out.append(
            f"Without .pyc: {extra['nopyc']['stdlib_modules_compiled']} standard "
            "library modules precompiled, everything else compiled at start-up."
        )
    if "coldstart" in extra:
        c = extra["coldstart"]["imports"]
        out.append(
            f"Largest import costs (python -X importtime, cold start to a guarded "
            f"GET /posts/; self time summed per top-level package; all imports "
            f"{c['total'] * 1e3:.0f} ms; `wsgi` is its module body, create_app):"
        )
        out += [f"  {seconds * 1e3:7.1f} ms  {name}" for name, seconds in c["top"]]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (~30 s)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS)
    parser.add_argument("--json", metavar="PATH", help="also write every number here")
    args = parser.parse_args()

    from . import common

    common.quiet()
    began = time.perf_counter()
    print(
        f"# {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}: {machine()}",
        flush=True,
    )
    idp = common.FakeIdP()
    rows, extra = [], {}

    def section(name: str, run) -> None:
        if name in args.only:
            print(f"  running {name} ...", file=sys.stderr, end=" ", flush=True)
            started = time.perf_counter()
            new_rows, extra[name] = run()
            rows.extend(new_rows)
            print(f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)

    from . import guarded
    from . import media
    from . import naive
    from . import render
    from . import verifier

    section("verifier", lambda: verifier.run(idp, args.quick))
    section("naive", lambda: naive.run(idp, args.quick))
    section("guarded", lambda: guarded.run(idp, args.quick))
    section("render", lambda: render.run(idp, args.quick))
    section("media", lambda: media.run(idp, args.quick))
    if {"lambda", "coldstart", "nopyc", "packaged"} & set(args.only):
        from . import coldstart
        from . import lambda_warm

        backends = common.LambdaBackends(idp)
        try:
            # The Lambda configuration, in this process too, from here on.
            section("lambda", lambda: lambda_warm.run(idp, backends, args.quick))
            if {"coldstart", "packaged"} & set(args.only):
                cookie = (extra.get("lambda") or {}).get(
                    "cookie"
                ) or lambda_warm.prepare(idp, backends)
                section(
                    "coldstart", lambda: coldstart.run(backends, cookie, args.quick)
                )
            section("nopyc", lambda: coldstart.without_bytecode(backends, args.quick))
            if "packaged" in args.only:
                from . import packaged

                section("packaged", lambda: packaged.run(backends, cookie, args.quick))
        finally:
            backends.close()
    print(table(rows))
    print()
    print(findings(extra))
    print(f"\n({time.perf_counter() - began:.0f} s)")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(extra, file, indent=1, default=str)


main()
