"""A fleet against one server: S local servers holding N/S tenants each against one server holding N,
the same change (the marketplace revision), measured in one run.

    python benchmarks/fleet.py --tenants 10000 --shards 4 [--workers 4] [--shard-workers 1] [--home DIR]

Starts S + 1 embedded PostgreSQL servers under ``--home`` (kept, with their seeded databases, so
a second run reuses them), seeds ``public`` + the tenants in the previous state of
``marketplace_tasks`` once per server, writes the revision once (``schemadiff plan -m`` against
the single server), then times, each on fresh copies of the seeded databases:

  * ``schemadiff plan`` (read only) against the single server and against the fleet (``--targets``);
  * ``schemadiff apply --yes`` against the single server with ``--workers`` and against the fleet
    with ``--shard-workers`` per shard (by default the same number of connections in all:
    workers / shards each);

and prints the wall times, the ratio fleet / single (goal: at most 1.2×) and the fleet's per-shard
figures (tenants done, seconds) as ``schemadiff apply`` prints them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from apply_scale import checkpoint, create_database, seed  # noqa: E402

from schemadiff.pg import embedded_server  # noqa: E402
from schemadiff.workflow.alembic_env import init_environment  # noqa: E402

SEEDED = "fleet_seed"


def server(home: Path, name: str, tenants: int) -> str:
    """The admin URL of the embedded server ``home/name``, its ``fleet_seed_<tenants>`` database seeded."""
    url = embedded_server.server_url(home / name)
    seeded = f"{SEEDED}_{tenants}"
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (seeded,)).fetchone()
    if not exists:
        create_database(url, seeded + "_tmp")
        seed(create_database_url(url, seeded + "_tmp"), tenants)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{seeded}_tmp" RENAME TO "{seeded}"')
    return url


def create_database_url(server_url: str, name: str) -> str:
    from schemadiff.pg import connection

    return connection.database_url(server_url, name)


def cli(*args: str, env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "schemadiff.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )
    wall = time.perf_counter() - start
    if proc.returncode not in ok:
        sys.exit(f"schemadiff {args[0]} exited {proc.returncode}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return wall, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4, help="connections of the single server's apply")
    parser.add_argument("--shard-workers", type=int, default=0, help="per shard (default: workers / shards)")
    parser.add_argument("--home", type=Path, default=Path(".schemadiff/bench-fleet"))
    args = parser.parse_args()
    per_shard = args.tenants // args.shards
    shard_workers = args.shard_workers or max(1, args.workers // args.shards)
    spec = str(ROOT / "schema.yaml")

    start = time.perf_counter()
    single_server = server(args.home, "single", args.tenants)
    shard_servers = [server(args.home, f"shard{i}", per_shard) for i in range(1, args.shards + 1)]
    print(f"servers ready and seeded in {time.perf_counter() - start:.1f} s", file=sys.stderr)

    def copies(tag: str) -> tuple[str, list[str]]:
        single = create_database(single_server, f"run_{tag}", f"{SEEDED}_{args.tenants}")
        shards = [create_database(s, f"run_{tag}", f"{SEEDED}_{per_shard}") for s in shard_servers]
        for url in [single, *shards]:
            checkpoint(url)
        return single, shards

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        init_environment(project)
        config = str(project / "alembic.ini")
        single, shards = copies("plan")
        env = {f"FLEET_SHARD_{i}": url for i, url in enumerate(shards, 1)}
        targets = project / "targets.yaml"
        targets.write_text(
            "targets:\n" + "".join(f"  shard{i}: {{url_env: FLEET_SHARD_{i}}}\n" for i in range(1, args.shards + 1))
        )
        plan_single, _ = cli("plan", "--spec", spec, "--database-url", single, "--config", config, ok=(2,))
        plan_fleet, _ = cli("plan", "--spec", spec, "--targets", str(targets), "--config", config, env=env, ok=(2,))
        cli(
            "plan",
            "--spec",
            spec,
            "--database-url",
            single,
            "--config",
            config,
            "-m",
            "bench",
            "--no-validate",
            ok=(2,),
        )

        single, shards = copies("apply")
        env = {f"FLEET_SHARD_{i}": url for i, url in enumerate(shards, 1)}
        common = ("--spec", spec, "--config", config, "--yes")
        apply_single, _ = cli("apply", *common, "--database-url", single, "--workers", str(args.workers))
        apply_fleet, table = cli("apply", *common, "--targets", str(targets), "--workers", str(shard_workers), env=env)

    print(f"\n{args.tenants} tenants on one server vs {args.shards} servers x {per_shard} tenants")
    print(
        f"plan:  single {plan_single:6.2f} s   fleet {plan_fleet:6.2f} s   fleet/single {plan_fleet / plan_single:.2f}x"
    )
    print(
        f"apply: single {apply_single:6.2f} s ({args.workers} workers)   fleet {apply_fleet:6.2f} s "
        f"({shard_workers} per shard)   fleet/single {apply_fleet / apply_single:.2f}x (goal <= 1.20x)"
    )
    print("per shard (fleet apply):")
    print(table)


if __name__ == "__main__":
    main()
