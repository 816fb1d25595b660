"""The benchmark's baseline: the smallest Flask + SQLAlchemy app that inserts one row per request.

Any POST, to any path, inserts one row (the path and the raw body) with SQLAlchemy Core and
answers ``201 {"id": <row id>}``. It is what a request costs on this machine, this database and
this server before any of ecm-comms's own work: ``benchmarks/bench.py`` divides our throughput by
its throughput.

It is served by ecm-comms's own gunicorn runner (``ecm_comms.entrypoints.cli.server.serve``), so
bind host, worker count, worker class, timeout and access log are ours by construction:

    python -m benchmarks.baseline_app --database-url postgresql+psycopg://postgres@127.0.0.1/db \\
        --port 8001 --workers 2

(``gunicorn 'benchmarks.baseline_app:create_app()'`` works too, with BASELINE_DATABASE_URL set,
but then the settings are gunicorn's defaults rather than ours.)
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    MetaData,
    Table,
    Text,
    create_engine,
    func,
    inspect,
)
from sqlalchemy.exc import SQLAlchemyError

DATABASE_URL_VARIABLE = "BASELINE_DATABASE_URL"

metadata = MetaData()
rows = Table(
    "bench_baseline_rows",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("path", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def create_table(engine: Engine) -> None:
    """The table, created if missing (two workers starting at once may race: one wins)."""
    try:
        metadata.create_all(engine)
    except SQLAlchemyError:
        if not inspect(engine).has_table(rows.name):
            raise


def create_app(database_url: str | None = None) -> Flask:
    url = database_url or os.environ[DATABASE_URL_VARIABLE]
    engine = create_engine(url)
    create_table(engine)
    app = Flask("bench_baseline", static_folder=None)

    @app.post("/<path:path>")
    def insert_one(path: str) -> ResponseReturnValue:
        with engine.begin() as connection:
            row_id = connection.execute(
                rows.insert()
                .values(path=path, body=request.get_data(as_text=True))
                .returning(rows.c.id)
            ).scalar_one()
        return jsonify(id=row_id), 201

    return app


def main(argv: Sequence[str] | None = None) -> None:
    # Imported here: the app itself needs nothing of ecm-comms.
    from ecm_comms.entrypoints.cli.server import serve
    from ecm_comms.settings import Settings

    parser = argparse.ArgumentParser(description="Serve the baseline app with ecm-comms's gunicorn")
    parser.add_argument("--database-url", default=os.environ.get(DATABASE_URL_VARIABLE))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args(argv)
    if not options.database_url:
        parser.error(f"--database-url (or {DATABASE_URL_VARIABLE}) is required")
    engine = create_engine(options.database_url)
    create_table(engine)  # once, before the workers start
    engine.dispose()
    database_url: str = options.database_url
    serve(
        lambda: create_app(database_url),
        # gunicorn as ours runs it, in the default (text) log format; the app counts nothing.
        Settings(database_url=database_url, metrics_enabled=False),
        host=options.host,
        port=options.port,
        workers=options.workers,
    )


if __name__ == "__main__":
    main()
