"""PLACEHOLDER until the storage package lands."""


def init_app(app):
    pass
