"""100,000 tenants on one server: `schemadiff plan`, `status` and `check` against their goals.

    python benchmarks/scale_100k.py [--tenants 100000] [--database-url URL] [--build-only] [--apply]

Builds the fixture once: ``public`` + N tenants, each with ``marketplace_tasks`` in its previous
state (20 rows) and an unmanaged ``jobs`` table (two tables per tenant, as the demo seeds them),
one tenant (``user_7``) with ``step_order`` already added by hand, in the database
``schemadiff_scale_N``; a database already complete (its comment says so) is reused as it is.
Then, in the same run, it times each command as a subprocess (wall time and peak RSS):
  * ``schemadiff plan --format json`` (goal: under 4 s and 300 MB), ``schemadiff status`` and
    ``schemadiff check`` (goal: under 3 s each) against a revision written once by ``plan -m``;
  * the baseline: the same ``plan`` with SCHEMADIFF_FULL_INTROSPECTION=1, which reads every tenant
    in full (deparsing every default and index definition) instead of one tenant per state digest,
    the shape before grouping by digest;
and prints each figure against its goal and the ratios baseline / grouped. With ``--apply`` it
copies the fixture (CREATE DATABASE … TEMPLATE, so the fixture stays reusable) and times
``schemadiff apply --yes --workers 4`` on the copy (goal: under 3 minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from schemadiff.core.ops import AddColumn  # noqa: E402
from schemadiff.pg import connection  # noqa: E402
from schemadiff.spec.schema import load_spec  # noqa: E402
from schemadiff.spec.to_model import column_model, create_statements  # noqa: E402
from schemadiff.workflow import demo  # noqa: E402
from schemadiff.workflow.alembic_env import init_environment  # noqa: E402

BATCH = 50
HAND_FIXED = "user_7"


def complete_mark(tenants: int) -> str:
    return f"schemadiff scale fixture: {tenants} tenants complete"


def tenant_sql(schema: str, previous_sql: list[str], fixed_sql: list[str]) -> list[str]:
    q = f'"{schema}"'
    out = [] if schema == "public" else [f"CREATE SCHEMA {q};"]
    out += [s.replace('"__SCHEMA__"', q) + ";" for s in previous_sql]
    out.append(f"CREATE TABLE {q}.jobs (id integer PRIMARY KEY, title text NOT NULL);")
    out.append(f"INSERT INTO {q}.jobs SELECT g, 'job ' || g FROM generate_series(1, 5) g;")
    out.append(
        f"INSERT INTO {q}.marketplace_tasks (job_id, status, payload, retry_count) "
        "SELECT 1 + mod(g, 5), CASE WHEN mod(g, 3) = 0 THEN 'done' ELSE 'pending' END, "
        "jsonb_build_object('n', g), mod(g, 2) FROM generate_series(1, 20) g;"
    )
    if schema == HAND_FIXED:
        out += [s.replace('"__SCHEMA__"', q) + ";" for s in fixed_sql]
    return out


def build(server_url: str, name: str, tenants: int) -> str:
    """The fixture database's URL, built (or finished) unless already complete."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT pg_catalog.shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if row is None:
            conn.execute(f'CREATE DATABASE "{name}"')
        elif row[0] == complete_mark(tenants):
            print(f"reusing the complete fixture {name}", file=sys.stderr)
            return connection.database_url(server_url, name)
    url = connection.database_url(server_url, name)
    loaded = load_spec(ROOT / "schema.yaml")
    previous = demo.previous_table(loaded)
    previous_sql = create_statements("__SCHEMA__", previous)
    step_order = column_model("step_order", loaded.spec.tables["marketplace_tasks"].columns["step_order"])
    fixed_sql = AddColumn("marketplace_tasks", step_order).sql("__SCHEMA__")
    start = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        done = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname ~ '^user_[0-9]+$'").fetchone()
        first = int(done[0]) if done else 0
        public_done = conn.execute("SELECT to_regclass('public.marketplace_tasks') IS NOT NULL").fetchone()
        schemas = ([] if public_done and public_done[0] else ["public"]) + [
            f"user_{i}" for i in range(first + 1, tenants + 1)
        ]
        for i in range(0, len(schemas), BATCH):
            sql = [s for schema in schemas[i : i + BATCH] for s in tenant_sql(schema, previous_sql, fixed_sql)]
            with conn.transaction():
                conn.execute("\n".join(sql))
            if (i // BATCH) % 100 == 0:
                took = time.perf_counter() - start
                print(f"seeded {i + BATCH}/{len(schemas)} schemas in {took:.0f} s", file=sys.stderr, flush=True)
        conn.execute("VACUUM ANALYZE")
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{complete_mark(tenants)}'")
    print(f"fixture built in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return url


PLAN_GOAL_S, PLAN_GOAL_MB, READ_GOAL_S, APPLY_GOAL_S = 4.0, 300.0, 3.0, 180.0
# the previous shape: every tenant introspected in full (deparsed), then the same plan and JSON
BASELINE = """
import sys
from schemadiff.render.json_report import render_json
from schemadiff.spec.schema import load_spec
from schemadiff.workflow.planning import make_plan
plan, _ = make_plan(load_spec(sys.argv[1]), sys.argv[2], grouped=False)
print(render_json(plan))
"""


def measured(cmd: list[str], ok: tuple[int, ...], cwd: Path | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and stdout of one subprocess (its own peak, read by wait4)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, text=True)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if code not in ok:
            sys.exit(f"{' '.join(cmd[2:5])} … exited {code}: {err.read().strip()[-2000:]}")
        return wall, usage.ru_maxrss / 1024, out.read()


def cli(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "schemadiff.cli", *(str(a) for a in args)]


def line(what: str, wall: float, peak: float, goal_s: float, goal_mb: float | None = None) -> str:
    met = wall < goal_s and (goal_mb is None or peak < goal_mb)
    goal = f"< {goal_s:g} s" + (f", < {goal_mb:g} MB" if goal_mb else "")
    return f"{what:34} {wall:7.2f} s  peak RSS {peak:6.0f} MB   goal {goal}: {'met' if met else 'NOT met'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="server to use (default: embedded)")
    parser.add_argument("--build-only", action="store_true", help="build the fixture and stop")
    parser.add_argument("--repeat", type=int, default=1, help="time each command this many times (median)")
    parser.add_argument("--apply", action="store_true", help="also time apply (4 workers) on a copy of the fixture")
    args = parser.parse_args()
    server = connection.resolve_url(args.database_url)
    name = f"schemadiff_scale_{args.tenants}"
    url = build(server.url, name, args.tenants)
    if args.build_only:
        return
    spec = ROOT / "schema.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        init_environment(project)
        config = project / "alembic.ini"
        common = ("--spec", spec, "--database-url", url, "--config", config)
        measured(cli("plan", *common, "--no-validate", "-m", "scale"), (2,), project)  # the revision, once
        runs: dict[str, list[tuple[float, float]]] = {}
        groups = 0
        for _ in range(args.repeat):  # interleaved, so that a burst of load hits every figure alike
            wall, peak, out = measured(cli("plan", "--spec", spec, "--database-url", url, "--format", "json"), (2,))
            groups = len(json.loads(out)["groups"])
            runs.setdefault("plan", []).append((wall, peak))
            wall, peak, _ = measured(cli("status", *common), (3,), project)
            runs.setdefault("status", []).append((wall, peak))
            wall, peak, _ = measured(cli("check", *common), (0, 1, 2), project)
            runs.setdefault("check", []).append((wall, peak))
            wall, peak, base_out = measured([sys.executable, "-c", BASELINE, str(spec), url], (0,))
            runs.setdefault("baseline", []).append((wall, peak))
            if json.loads(base_out)["groups"] != json.loads(out)["groups"]:
                sys.exit("the baseline planned other groups than schemadiff plan")
        med = {k: (statistics.median(w for w, _ in v), max(p for _, p in v)) for k, v in runs.items()}
        load = os.getloadavg()
        how = f", median of {args.repeat}" if args.repeat > 1 else ""
        print(f"tenants: {args.tenants} (+ public), 2 tables each; server {connection.redact(server.url)}{how}")
        print(f"load average after the runs: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
        print(line("schemadiff plan --format json", *med["plan"], PLAN_GOAL_S, PLAN_GOAL_MB) + f" ({groups} groups)")
        print(line("schemadiff status", *med["status"], READ_GOAL_S))
        print(line("schemadiff check", *med["check"], READ_GOAL_S))
        base_wall, base_peak = med["baseline"]
        print(f"{'baseline: every tenant read in full':34} {base_wall:7.2f} s  peak RSS {base_peak:6.0f} MB")
        plan_wall, plan_peak = med["plan"]
        print(f"ratios baseline / plan: {base_wall / plan_wall:.2f}x wall time, {base_peak / plan_peak:.2f}x peak RSS")
        if args.apply:
            copy = f"{name}_apply"
            with psycopg.connect(server.url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
                # FILE_COPY: the files copied as they are, not 15 GB written again through the WAL
                strategy = " STRATEGY FILE_COPY" if conn.info.server_version >= 150000 else ""
                conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"{strategy}')
            try:
                copy_url = connection.database_url(server.url, copy)
                args_apply = ("--spec", spec, "--database-url", copy_url, "--config", config)
                wall, peak, _ = measured(cli("apply", *args_apply, "--yes", "--workers", "4"), (0,), project)
                print(line("schemadiff apply --workers 4", wall, peak, APPLY_GOAL_S))
            finally:
                with psycopg.connect(server.url, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')


if __name__ == "__main__":
    main()
