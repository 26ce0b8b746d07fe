"""One cold start, run as a fresh process: import the app, serve one API Gateway event.

`python bench/coldchild.py blog|flask|flask+aws|flask+deps`, the event as JSON in
BENCH_EVENT; prints
one JSON line: seconds to import and to answer, status, peak RSS in KiB.
"""

import time

started = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ title }}</title></head><body><main><h1>{{ title }}</h1>
<p>A bare Flask app on Lambda.</p></main></body></html>"""


def bare_flask():
    """The smallest Flask app served as ours is: aws-wsgi, a template, one route."""
    import awsgi
    from flask import Flask
    from flask import render_template_string

    app = Flask(__name__)

    @app.get("/")
    def index():
        return render_template_string(PAGE, title="Blog")

    def handler(event, context):
        return awsgi.response(app, event, context)

    return handler


def peak_rss_kib() -> int:
    """VmHWM, this process's peak RSS (ru_maxrss would keep the parent's over exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def flask_with_aws():
    """The bare app plus the AWS work any app on this deployment does at start-up:
    boto3, the two secrets from Secrets Manager, a DynamoDB resource for two tables."""
    import boto3

    secrets = boto3.client("secretsmanager")
    for name in ("BLOG_SECRET_KEY", "BLOG_COGNITO_CLIENT_SECRET"):
        reference = os.environ[name].partition(":")[2]
        secrets.get_secret_value(SecretId=reference)
    dynamodb = boto3.resource("dynamodb")
    dynamodb.Table(os.environ["BLOG_SESSION_TABLE"])
    dynamodb.Table(os.environ["BLOG_POSTS_TABLE"])
    return bare_flask()


def flask_with_dependencies():
    """The bare app, the AWS start-up, and every runtime dependency the blog imports at
    start-up: what ours spends beyond this is the blog's own code."""
    import authlib.integrations.flask_client  # noqa: F401
    import cachelib  # noqa: F401
    import flask_session.base  # noqa: F401
    import flask_wtf.csrf  # noqa: F401
    import jwt  # noqa: F401
    import markdown_it  # noqa: F401
    import msgspec  # noqa: F401
    import nh3  # noqa: F401
    import requests  # noqa: F401

    return flask_with_aws()


def main() -> None:
    kind = sys.argv[1]
    base = json.loads(os.environ["BENCH_EVENT"])
    t0 = time.perf_counter()
    if kind == "blog":
        import wsgi

        handler = wsgi.handler
    elif kind == "flask+aws":
        handler = flask_with_aws()
    elif kind == "flask+deps":
        handler = flask_with_dependencies()
    else:
        handler = bare_flask()
    imported = time.perf_counter()
    answer = handler(base, None)
    answered = time.perf_counter()
    if os.environ.get("BENCH_MODULES"):  # which files this start imported
        with open(os.environ["BENCH_MODULES"], "w") as listing:
            files = (getattr(m, "__file__", None) for m in list(sys.modules.values()))
            listing.write("\n".join(sorted({f for f in files if f})))
    print(
        json.dumps(
            {
                "startup": t0 - started,
                "import": imported - t0,
                "first": answered - imported,
                "total": answered - t0,
                "status": int(answer["statusCode"]),
                "rss_kib": peak_rss_kib(),
            }
        )
    )


main()
