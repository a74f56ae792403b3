"""Kept at this path for generated ``env.py`` files (``from schemadiff.embedded import server_url``):
the embedded PostgreSQL lives in ``schemadiff.pg.embedded_server``."""

from schemadiff.pg.embedded_server import running_url, server_url, stop

__all__ = ["running_url", "server_url", "stop"]
