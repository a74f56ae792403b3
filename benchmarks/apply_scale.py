"""Apply at scale: the revision's upgrade/downgrade with 1, 2, 4 and 8 workers against a plain loop.

    python benchmarks/apply_scale.py --tenants 1000 [--database-url URL] [--workers 1,2,4,8] [--data-check-cost]

Seeds a database with ``public`` + N tenants holding ``marketplace_tasks`` in its previous state
(with rows) and writes the revision with ``schemadiff plan -m``. Then, in the same run, it times
  * baseline: one connection looping over the tenants, running the same statements (recorded
    from the revision) in one transaction per tenant — upgrade, then downgrade; and the same loop
    with ``synchronous_commit = off``, as the runtime commits tenants, so that the ratio against
    it shows what parallelism and fewer round trips bring without the saved WAL flushes;
  * schemadiff: ``alembic upgrade head`` and ``alembic downgrade -1`` (a subprocess, as in
    production: discovery, preflight, lock, ledger) with each worker count;
and prints the times and the ratios baseline / schemadiff. ``--data-check-cost`` adds a copy whose
downgrade (4 workers) runs with ``-x allow=deletes_data``, so without the check that no tenant holds
data the downgrade would delete: the difference is what that check costs. Goals (issue 3): ≥ 1.8× with 4 workers;
10,000 tenants applied in under a minute on 2 cores.

Every upgrade/downgrade pair runs on its own fresh copy of the seeded database (``CREATE
DATABASE … TEMPLATE``), after a checkpoint. Reusing one database would favour whatever runs
first: PostgreSQL never removes a dropped column from ``pg_attribute``, so each upgrade and
downgrade cycle leaves every tenant table with more dropped attributes and bloats the catalogs
(fifteen cycles here doubled the time of the same upgrade). All copies are made first, then every
upgrade is measured, then every downgrade: the index files a downgrade drops are unlinked at the
next checkpoint, and on some file systems (ext4 without a journal, as on our CI machines) creating
files shortly after mass deletion costs several times more, so an upgrade measured after another
run's downgrade would pay for that run.
"""

from __future__ import annotations

import argparse
import os
import re
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

from schemadiff.core.sqltext import quote_ident  # noqa: E402
from schemadiff.pg import connection  # noqa: E402
from schemadiff.runtime import record  # noqa: E402
from schemadiff.spec.schema import load_spec  # noqa: E402
from schemadiff.spec.to_model import create_statements  # noqa: E402
from schemadiff.workflow import demo  # noqa: E402
from schemadiff.workflow.alembic_env import init_environment  # noqa: E402
from schemadiff.workflow.prove import load_revision  # noqa: E402


def seed(url: str, tenants: int) -> None:
    previous = demo.previous_table(load_spec(ROOT / "schema.yaml"))
    with psycopg.connect(url, autocommit=True) as conn:
        done = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname ~ '^user_[0-9]+$'").fetchone()
        start = int(done[0]) if done else 0
        schemas = (["public"] if start == 0 else []) + [f"user_{i}" for i in range(start + 1, tenants + 1)]
        for i in range(0, len(schemas), 50):
            sql = []
            for schema in schemas[i : i + 50]:
                if schema != "public":
                    sql.append(f"CREATE SCHEMA {schema};")
                sql += [s + ";" for s in create_statements(schema, previous)]
                sql.append(
                    f"INSERT INTO {schema}.marketplace_tasks (job_id, status) "
                    "SELECT g, 'pending' FROM generate_series(1, 20) g;"
                )
            with conn.transaction():
                conn.execute("\n".join(sql))
            print(f"\rseeded {i + 50}/{len(schemas)}", end="", file=sys.stderr)
        print(file=sys.stderr)


def alembic(project: Path, url: str, *args: str) -> tuple[float, float]:
    """Wall time of the alembic subprocess, and the time its runtime reports (lock, preflight and
    the tenants, without starting Python and importing Alembic)."""
    checkpoint(url)
    env = {**os.environ, "SCHEMADIFF_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(project / "alembic.ini"), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        sys.exit(f"alembic {' '.join(args)} failed: {proc.stderr[-2000:]}")
    wall = time.perf_counter() - start
    found = re.search(r"^schemadiff: .* in ([0-9.]+) s$", proc.stderr, re.MULTILINE)
    if not found:
        sys.exit(f"alembic {' '.join(args)} printed no schemadiff summary: {proc.stderr[-2000:]}")
    return wall, float(found.group(1))


def checkpoint(url: str) -> None:
    """No phase inherits the WAL of the one before (a checkpoint it would force mid-phase)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def vacuum(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM")


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """A new database ``name`` (replacing any of that name), empty or copied from ``template``; its URL."""
    drop(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        copy = ""
        if template:
            copy = f' TEMPLATE "{template}"' + (" STRATEGY FILE_COPY" if conn.info.server_version >= 150000 else "")
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    return connection.database_url(server_url, name)


def drop(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def loop(url: str, schemas: list[str], statements: tuple[str, ...], synchronous_commit: bool = True) -> float:
    """The baseline: each tenant's statements in one transaction, search_path on the tenant."""
    checkpoint(url)
    start = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        if not synchronous_commit:
            conn.execute("SET synchronous_commit = off")
        for schema in schemas:
            q = quote_ident(schema)
            with conn.transaction():
                conn.execute(f"SET LOCAL search_path = {q}")
                for statement in statements:
                    conn.execute(statement)
    return time.perf_counter() - start


LOOP, LOOP_ASYNC = "loop", "loop-async"
# 4 workers, the downgrade with -x allow=deletes_data: without the check that no tenant holds data the
# downgrade would delete (one read of every tenant's dropped columns before any change); the
# difference to "4 worker(s)" is what that check costs
NO_DATA_CHECK = "4-no-data-check"


def label(config: int | str) -> str:
    if config == LOOP:
        return "baseline loop, one connection"
    if config == LOOP_ASYNC:
        return "the same loop with synchronous_commit = off"
    if config == NO_DATA_CHECK:
        return "4 worker(s), downgrade without its data check"
    return f"{config} worker(s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument(
        "--data-check-cost",
        action="store_true",
        help="also time the downgrade with 4 workers without its data check (-x allow=deletes_data)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="measure each figure this many times, interleaved, and use the median"
    )
    args = parser.parse_args()
    server = connection.resolve_url(args.database_url)
    name = f"schemadiff_apply_{args.tenants}"
    url = create_database(server.url, name)
    seed(url, args.tenants)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    schemas = ["public"] + [f"user_{i}" for i in range(1, args.tenants + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        init_environment(project)
        plan = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemadiff.cli",
                "plan",
                "--spec",
                str(ROOT / "schema.yaml"),
                "--database-url",
                url,
                "--config",
                str(project / "alembic.ini"),
                "--no-validate",
                "-m",
                "benchmark",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        if plan.returncode != 2:
            sys.exit(f"plan failed: {plan.stderr}")
        [path] = (project / "migrations" / "versions").glob("*.py")
        group = load_revision(path.read_text()).GROUPS[0]
        up_sql = tuple(s.sql for s in record(group.upgrade, 2).online)
        down_sql = tuple(s.sql for s in record(group.downgrade, 2).online)
        worker_counts = [int(w) for w in args.workers.split(",")]
        configs: list[int | str] = [
            LOOP,
            LOOP_ASYNC,
            *worker_counts,
            *([NO_DATA_CHECK] if args.data_check_cost else []),
        ]
        copies = {(r, c): f"{name}_{r}_{c}" for r in range(args.repeat) for c in configs}
        times: dict[tuple[str, int | str], list[float]] = {}  # (direction [runtime], configuration) -> s
        try:
            for copy in copies.values():
                print(f"copying the seeded database to {copy}", file=sys.stderr)
                create_database(server.url, copy, template=name)
            # every upgrade first, then every downgrade, interleaved across the configurations
            for direction in ("upgrade", "downgrade"):
                for (_r, c), copy in copies.items():
                    run_url = connection.database_url(server.url, copy)
                    if c in (LOOP, LOOP_ASYNC):
                        took = loop(
                            run_url,
                            schemas,
                            up_sql if direction == "upgrade" else down_sql,
                            synchronous_commit=c == LOOP,
                        )
                        inside = took
                    else:
                        allow = ("-x", "allow=deletes_data") if c == NO_DATA_CHECK and direction == "downgrade" else ()
                        took, inside = alembic(
                            project,
                            run_url,
                            "-x",
                            f"workers={4 if c == NO_DATA_CHECK else c}",
                            *allow,
                            *(("upgrade", "head") if direction == "upgrade" else ("downgrade", "-1")),
                        )
                    print(f"{direction} {label(c)}: {took:.2f} s ({inside:.2f} s in the runtime)", file=sys.stderr)
                    vacuum(run_url)  # its dead catalog rows, so autovacuum does not run into the next phase
                    times.setdefault((direction, c), []).append(took)
                    times.setdefault((f"{direction} runtime", c), []).append(inside)
        finally:
            for copy in copies.values():
                drop(server.url, copy)
        med = {key: statistics.median(values) for key, values in times.items()}
        how = f" (median of {args.repeat})" if args.repeat > 1 else ""
        print(f"tenants: {args.tenants} (+ public); server {connection.redact(server.url)}{how}")
        for c in (LOOP, LOOP_ASYNC):
            print(f"{label(c) + ':':46} upgrade {med['upgrade', c]:7.2f} s   downgrade {med['downgrade', c]:7.2f} s")
        for suffix, what in (
            ("", "the whole alembic process"),
            (" runtime", "the runtime alone (lock, preflight, tenants; not Python and Alembic start-up)"),
        ):
            print(f"schemadiff, {what}; ratios against the loop / against the loop with synchronous_commit off:")
            for workers in worker_counts:
                cells = []
                for direction in ("upgrade", "downgrade"):
                    took = med[direction + suffix, workers]
                    cells.append(
                        f"{direction} {took:7.2f} s ({med[direction, LOOP] / took:4.2f}x / "
                        f"{med[direction, LOOP_ASYNC] / took:4.2f}x)"
                    )
                print(f"  {label(workers):12} " + "   ".join(cells))
        if args.data_check_cost:
            without = med["downgrade", NO_DATA_CHECK]
            cost = f"; the data check costs {med['downgrade', 4] - without:.2f} s" if 4 in worker_counts else ""
            print(
                f"{label(NO_DATA_CHECK)}: downgrade {without:7.2f} s ({med[('downgrade', LOOP)] / without:4.2f}x){cost}"
            )
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak RSS of the largest alembic/schemadiff process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
