"""A new tenant at sign-up: `schemadiff tenant create` (the library call) against cloning the template.

    python benchmarks/tenant_create.py [--tenants N] [--database-url URL]

Builds a database (``schemadiff_tenant_bench``, replaced) with the demo's tenants, writes the
marketplace revision (``plan -m``) and applies it, so the database is at the head revision. Then, in
the same run and interleaved, N times each:
  * schemadiff: ``TenantBlueprint.create(connection, name)`` (the spec and the versions directory
    read once, as an application does at start): the schema, the spec's objects, the read-back
    check against the head revision's target, the ledger row, one transaction;
  * baseline: ``CREATE SCHEMA`` + ``CREATE TABLE … (LIKE public.marketplace_tasks INCLUDING ALL)``
    in one transaction on the same connection;
and prints median and p95 of each in ms and their ratio; then ``create_tenant(url, name)`` (a
connection of its own per tenant; the blueprint kept while the files are unchanged), and
``prepare_tenants(...).create(url, name)`` (the spec and the versions directory read every time,
as ``schemadiff tenant create`` does, without starting Python). Goal (issue 11): under 100 ms per
tenant.

It then shows why the baseline is how drift starts: what a LIKE clone of the template differs in
from the spec (as every schemadiff plan will report it), and where the id default of a LIKE clone
of a ``bigserial`` template table points (the template's sequence) against the id sequence of a
tenant schemadiff created (its own).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from schemadiff.core.diff import diff_schema  # noqa: E402
from schemadiff.core.fingerprint import fingerprint  # noqa: E402
from schemadiff.pg import connection  # noqa: E402
from schemadiff.pg.introspect import introspect  # noqa: E402
from schemadiff.spec.schema import load_spec  # noqa: E402
from schemadiff.workflow import demo  # noqa: E402
from schemadiff.workflow.alembic_env import init_environment  # noqa: E402
from schemadiff.workflow.new_tenant import TenantBlueprint, create_tenant, prepare_tenants  # noqa: E402

DATABASE = "schemadiff_tenant_bench"
SPEC = ROOT / "schema.yaml"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "schemadiff.cli", *args], capture_output=True, text=True, env=env)


def at_head(server_url: str, project: Path) -> str:
    """The bench database with the demo's tenants, the marketplace revision written and applied."""
    url = demo.recreate_database(server_url, DATABASE)
    demo.seed_previous_state(url, load_spec(SPEC))
    init_environment(project)
    common = ["--spec", str(SPEC), "--database-url", url, "--config", str(project / "alembic.ini")]
    planned = cli("plan", *common, "--no-validate", "-m", "benchmark")
    if planned.returncode != 2:
        sys.exit(f"plan failed: {planned.stderr}")
    applied = cli("apply", *common, "--yes")
    if applied.returncode != 0:
        sys.exit(f"apply failed: {applied.stderr}")
    return url


def like_clone(conn: psycopg.Connection, name: str, table: str = "public.marketplace_tasks") -> None:
    with conn.transaction():
        conn.execute(f'CREATE SCHEMA "{name}"')
        conn.execute(f'CREATE TABLE "{name}".{table.split(".")[1]} (LIKE {table} INCLUDING ALL)')


def ms(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def drift(conn: psycopg.Connection, blueprint: TenantBlueprint, ours: str) -> None:
    """What a LIKE clone differs in from the spec; where a cloned bigserial default points."""
    clone = "user_999999"
    like_clone(conn, clone)
    with conn.transaction():
        models = introspect(conn, [clone, ours], list(blueprint.tables), "public", blueprint.enums).models
    head = blueprint.head
    print(
        f"\nstate of a LIKE clone ({clone}): {fingerprint(models[clone])}; the spec's (head {head.revision}): "
        f"{head.target}; the tenant schemadiff created ({ours}): {fingerprint(models[ours])}"
    )
    assert head.target_model is not None
    print("  what `schemadiff plan` will report for the LIKE clone, forever, as its own group:")
    for op in diff_schema(models[clone], head.target_model):
        print(f"    - {op.describe()}")
    with conn.transaction():
        conn.execute("CREATE SCHEMA bench_legacy")
        conn.execute("CREATE TABLE bench_legacy.tasks (id bigserial PRIMARY KEY, job_id integer NOT NULL)")
    like_clone(conn, "bench_legacy_clone", "bench_legacy.tasks")
    conn.execute("SET search_path = ''")  # every name printed schema-qualified
    [(cloned,)] = conn.execute(
        "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'bench_legacy_clone.tasks'::regclass"
    ).fetchall()
    [(own,)] = conn.execute("SELECT pg_get_serial_sequence(%s, 'id')", (f"{ours}.marketplace_tasks",)).fetchall()
    conn.execute("RESET search_path")
    print("  a template table with a bigserial id, cloned with LIKE … INCLUDING ALL: the clone's id default is")
    print(f"    {cloned}   <- the TEMPLATE's sequence: every clone draws ids from bench_legacy's")
    print(f"  the id of {ours} (created by schemadiff): identity, its own sequence {own}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=50, help="tenants created by each method")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    server = connection.resolve_url(args.database_url)
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        url = at_head(server.url, project)
        try:
            run(url, project, args.tenants)
        finally:
            _drop(server.url)


def run(url: str, project: Path, n: int) -> None:
    ini = project / "alembic.ini"
    blueprint = prepare_tenants(SPEC, ini)
    ours: list[float] = []
    like: list[float] = []
    with psycopg.connect(url, autocommit=True) as conn:
        blueprint.create(conn, "user_100000")  # warm-up: first use of the prepared statements and caches
        like_clone(conn, "like_0")
        for i in range(1, n + 1):
            ours.append(timed(lambda i=i: blueprint.create(conn, f"user_{100000 + i}")))
            like.append(timed(lambda i=i: like_clone(conn, f"like_{i}")))
    few = range(1, min(n, 20) + 1)
    per_url = [timed(lambda i=i: create_tenant(url, f"user_{200000 + i}", SPEC, ini)) for i in few]
    one_shot = [timed(lambda i=i: prepare_tenants(SPEC, ini).create(url, f"user_{300000 + i}")) for i in few]
    (om, op), (lm, lp), (um, up), (sm, sp) = ms(ours), ms(like), ms(per_url), ms(one_shot)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"database {connection.redact(url)}; marketplace_tasks; {n} tenants each, interleaved")
    print(f"load average {load} on {os.cpu_count()} cores (a shared machine: the times scale with it, the ratio less)")
    print(f"{'schemadiff (prepared blueprint, one connection):':52} median {om:6.1f} ms   p95 {op:6.1f} ms")
    print(f"{'baseline CREATE TABLE … LIKE … INCLUDING ALL:':52} median {lm:6.1f} ms   p95 {lp:6.1f} ms")
    print(f"ratio schemadiff / baseline (median): {om / lm:.1f}×")
    print(f"{'create_tenant(url, …): a connection per tenant:':52} median {um:6.1f} ms   p95 {up:6.1f} ms")
    print(f"{'prepare_tenants(…).create(url, …) every time:':52} median {sm:6.1f} ms   p95 {sp:6.1f} ms")
    print(f"goal under 100 ms per tenant: {'met' if op < 100 else 'NOT met'} (p95 {op:.1f} ms, prepared)")
    with psycopg.connect(url, autocommit=True) as conn:
        drift(conn, blueprint, "user_100001")


def _drop(server_url: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    main()
