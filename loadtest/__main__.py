"""`python -m loadtest --users 50 --duration 60 [--store dynamodb]`; 1 on a failure."""

from __future__ import annotations

import argparse
import sys

from . import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest", description=__doc__)
    parser.add_argument("--users", type=int, default=50, help="concurrent users (50)")
    parser.add_argument(
        "--duration", type=float, default=60, help="seconds of load (60)"
    )
    parser.add_argument(
        "--store",
        choices=("sqlite", "dynamodb"),
        default="sqlite",
        help="posts and sessions in SQLite/files, or DynamoDB (moto)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (8)")
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean pause in seconds before each page (1; 0: flat out)",
    )
    parser.add_argument(
        "--ramp",
        type=float,
        default=None,
        help="seconds over which users start (users/5, at most 10)",
    )
    args = parser.parse_args(argv)
    if args.users < 1 or args.users > 500 or not 0 < args.duration <= 1800:
        parser.error("keep it bounded: 1-500 users, at most 1800 s")
    if args.workers < 2 and args.threads < 2:
        parser.error("local mode needs a spare worker or thread for the token call")
    report = run(
        args.users,
        args.duration,
        args.store,
        args.workers,
        args.threads,
        args.think,
        args.ramp,
    )
    print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
