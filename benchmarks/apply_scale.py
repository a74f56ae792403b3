"""Apply at scale: the revision's upgrade/downgrade with 1, 2, 4 and 8 workers against a plain loop.

    python benchmarks/apply_scale.py --tenants 1000 [--database-url URL] [--workers 1,2,4,8]

Builds (or reuses) a database with ``public`` + N tenants holding ``marketplace_tasks`` in its
previous state (with rows), writes the revision with ``schemadiff plan -m``, then in the same run
times
  * baseline: one connection looping over the tenants, running the same statements (recorded
    from the revision) in one transaction per tenant — upgrade, then downgrade;
  * schemadiff: ``alembic upgrade head`` and ``alembic downgrade -1`` (a subprocess, as in
    production: discovery, preflight, lock, ledger) with each worker count;
and prints the times and the ratios baseline / schemadiff. Goals (issue 3): ≥ 1.8× with 4 workers;
10,000 tenants applied in under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from schemadiff import db, demo  # noqa: E402
from schemadiff.revision import init_environment  # noqa: E402
from schemadiff.runner import PLACEHOLDER  # noqa: E402
from schemadiff.runtime import record  # noqa: E402
from schemadiff.spec import load_spec  # noqa: E402
from schemadiff.sqltext import quote_ident  # noqa: E402
from schemadiff.target import create_table_sql  # noqa: E402
from schemadiff.validate import load_revision  # noqa: E402


def seed(url: str, tenants: int) -> None:
    previous = demo.previous_table(load_spec(ROOT / "schema.yaml"))
    with psycopg.connect(url, autocommit=True) as conn:
        done = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname ~ '^user_[0-9]+$'").fetchone()
        start = int(done[0]) if done else 0
        schemas = (["public"] if start == 0 else []) + [f"user_{i}" for i in range(start + 1, tenants + 1)]
        for i in range(0, len(schemas), 50):
            sql = []
            for schema in schemas[i:i + 50]:
                if schema != "public":
                    sql.append(f"CREATE SCHEMA {schema};")
                sql += [s + ";" for s in create_table_sql(schema, "marketplace_tasks", previous)]
                sql.append(f"INSERT INTO {schema}.marketplace_tasks (job_id, status) "
                           "SELECT g, 'pending' FROM generate_series(1, 20) g;")
            with conn.transaction():
                conn.execute("\n".join(sql))
            print(f"\rseeded {i + 50}/{len(schemas)}", end="", file=sys.stderr)
        print(file=sys.stderr)


def alembic(project: Path, url: str, *args: str) -> float:
    vacuum(url)
    env = {**os.environ, "SCHEMADIFF_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "alembic", "-c", str(project / "alembic.ini"), *args],
                          cwd=project, env=env, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"alembic {' '.join(args)} failed: {proc.stderr[-2000:]}")
    return time.perf_counter() - start


def vacuum(url: str) -> None:
    """Every phase starts from freshly vacuumed catalogs (repeated DDL bloats pg_attribute & co)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM")


def loop(url: str, schemas: list[str], statements: tuple[str, ...]) -> float:
    vacuum(url)
    start = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        for schema in schemas:
            q = quote_ident(schema)
            with conn.transaction():
                for statement in statements:
                    conn.execute(statement.replace(PLACEHOLDER, q))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure each figure this many times, interleaved, and use the median")
    args = parser.parse_args()
    server = db.resolve_url(args.database_url)
    name = f"schemadiff_apply_{args.tenants}"
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = db.database_url(server.url, name)
    seed(url, args.tenants)
    schemas = ["public"] + [f"user_{i}" for i in range(1, args.tenants + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        init_environment(project)
        plan = subprocess.run([sys.executable, "-m", "schemadiff.cli", "plan", "--spec", str(ROOT / "schema.yaml"),
                               "--database-url", url, "--config", str(project / "alembic.ini"), "--no-validate",
                               "-m", "benchmark"], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        if plan.returncode != 2:
            sys.exit(f"plan failed: {plan.stderr}")
        [path] = (project / "migrations" / "versions").glob("*.py")
        group = load_revision(path.read_text()).GROUPS[0]
        up_sql, down_sql = record(group.upgrade), record(group.downgrade)
        base_ups, base_downs = [], []
        runs: dict[int, tuple[list[float], list[float]]] = {}
        worker_counts = [int(w) for w in args.workers.split(",")]
        for _ in range(args.repeat):  # interleaved, so drift on a shared machine hits all alike
            base_ups.append(loop(url, schemas, up_sql))
            base_downs.append(loop(url, schemas, down_sql))
            for workers in worker_counts:
                ups, downs = runs.setdefault(workers, ([], []))
                ups.append(alembic(project, url, "-x", f"workers={workers}", "upgrade", "head"))
                downs.append(alembic(project, url, "-x", f"workers={workers}", "downgrade", "-1"))
        base_up, base_down = statistics.median(base_ups), statistics.median(base_downs)
        how = f" (median of {args.repeat})" if args.repeat > 1 else ""
        print(f"tenants: {args.tenants} (+ public); server {db.redact(server.url)}{how}")
        print(f"baseline loop, one connection:  upgrade {base_up:7.2f} s   downgrade {base_down:7.2f} s")
        for workers in worker_counts:
            up, down = (statistics.median(x) for x in runs[workers])
            print(f"schemadiff, {workers} worker(s):      upgrade {up:7.2f} s ({base_up / up:4.2f}x)   "
                  f"downgrade {down:7.2f} s ({base_down / down:4.2f}x)")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak RSS of the largest alembic/schemadiff process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
