"""The WSGI entry point: `app` for WSGI servers."""

from blog import create_app

app = create_app()
