"""Web console load benchmark: 20 concurrent users browsing the dashboard and the energy query
of the demo park, served on SQLite by one uvicorn process.

1. builds the demo park into a fresh SQLite file (or reuses the one given with ``--db``;
   a database without the demo is built there) — the demo includes the demo users;
2. starts the app with uvicorn in a subprocess on a free port (access log off: the app is
   measured, not the terminal);
3. reference, in the same run: ``GET /api/status`` by a single logged-in user, sequentially,
   ``--ref-requests`` times (the cost of the stack — HTTP, authentication, one small query);
   and, for context, the browsing round below by that user alone (``--single-rounds``
   times): what each endpoint costs without contention (column ``1u p50``);
4. ``--users`` threads (default 20), each with its own HTTP client, log in in rotation as
   ``park_admin``, ``cement_manager`` and ``textile_manager`` (``POST /api/auth/token``),
   wait for each other, then browse ``--rounds`` times, reading each page for a think time
   (``--think``, default 1–3 s uniform; ``--think 0``: back to back, the saturation case):
   the dashboard page
   ``GET /`` and ``GET /api/dashboard?node=...``, the query page ``GET /energy/query`` and
   ``GET /api/energy/query`` (month to date by day, year-on-year and month-on-month),
   ``/api/energy/drilldown`` (month to date) and ``/api/energy/totals`` (last month) of the
   user's park or enterprise; pages are fetched with the session cookie, the API with the
   bearer token; one warm-up round per user is not counted;
5. prints per endpoint and overall: requests, errors (a page that is not there yet answers
   404 and is reported as such), p50/p95/max of the client-side latency, p50/p95 of the
   server-side time from ``Server-Timing: app;dur=<ms>``, and the ratio of p50 and p95 to
   the reference's p50; the throughput; the wall time.

The target is p95 < 300 ms on SQLite; it is reported (``ok``/``SLOW``), not asserted.
The dashboard's answer is kept for ``NENGTAN_DASHBOARD_MAX_AGE_S`` (30 s by default, forgotten at
every API write); ``--dashboard-max-age 0`` measures the case where every dashboard is read
afresh (as when writes keep arriving).

Usage:  python benchmarks/console_load.py [--db sqlite:////path/demo.db] [--users 20]
        [--rounds 10] [--ref-requests 50] [--json] [--keep]
The last line is ``summary: p95_ms=... ref_p50_ms=... ratio=... target_ms=300 ok|SLOW``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx2

TARGET_MS = 300.0
PASSWORD = "Nengtan@Demo2026"  # the published demo password (nengtan.demo.users_demo)
#: user name → the park or enterprise they look at
USERS = (("park_admin", "QLP"), ("cement_manager", "CEM"), ("textile_manager", "TEX"))
_TIMING = re.compile(r"(?:^|,)\s*app\s*;[^,]*?dur=([0-9.]+)")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", help="SQLite URL of a demo park to reuse (built there if missing); "
                                "default: a fresh build in a temporary directory")
    p.add_argument("--users", type=int, default=20, help="concurrent simulated users")
    p.add_argument("--rounds", type=int, default=10, help="rounds of browsing per user")
    p.add_argument("--workers", type=int, default=1,
                   help="uvicorn worker processes (nengtan serve --workers)")
    p.add_argument("--think", default="1-3",
                   help="seconds a user reads a page before the next one, uniform MIN-MAX "
                        "(default 1-3; 0: no pause, the saturation case)")
    p.add_argument("--dashboard-max-age", type=float, default=None, metavar="SECONDS",
                   help="NENGTAN_DASHBOARD_MAX_AGE_S of the server (default: the product's, "
                        "30 s; 0: every dashboard answer read afresh, as after a write)")
    p.add_argument("--ref-requests", type=int, default=50,
                   help="sequential GET /api/status requests of the reference")
    p.add_argument("--single-rounds", type=int, default=3,
                   help="rounds of one user alone before the load (the 1-user column)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--keep", action="store_true",
                   help="keep the temporary directory of a fresh build")
    return p.parse_args()


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- the installation --------------------------------------------------------------------------
def demo_today(url: str) -> date | None:
    """The demo's 'today' from its marker (``meta.demo``), or None when it is not built."""
    path = url.removeprefix("sqlite:///")
    if not os.path.isfile(path):
        return None
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'demo'").fetchone()
    except sqlite3.Error:
        row = None
    finally:
        con.close()
    return date.fromisoformat(json.loads(row[0])["today"]) if row else None


def build(url: str, env: dict[str, str]) -> None:
    say(f"building the demo park into {url} ...")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nengtan.cli", "demo", "--no-serve", "--db", url],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    say(f"built in {time.perf_counter() - t0:.1f} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVER = """
import os, sys, uvicorn
from nengtan.api.app import create_app
from nengtan.commands.common import engine
url, port, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if workers == 1:
    uvicorn.run(create_app(engine(url)), host="127.0.0.1", port=port,
                log_level="warning", access_log=False)
else:  # as `nengtan serve --workers N`: one app per process
    os.environ["NENGTAN_DATABASE_URL"] = url
    uvicorn.run("nengtan.api.app:create_app", factory=True, workers=workers, host="127.0.0.1",
                port=port, log_level="warning", access_log=False)
"""


def start_server(url: str, port: int, env: dict[str, str], workers: int = 1) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", SERVER, url, str(port), str(workers)],
                            env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with status {proc.returncode}")
        try:
            httpx2.get(f"http://127.0.0.1:{port}/api/status", timeout=2)
            return proc
        except httpx2.TransportError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the server did not answer within 120 s")


# -- measuring ---------------------------------------------------------------------------------
@dataclass
class Sample:
    endpoint: str
    status: int
    ms: float
    server_ms: float | None


@dataclass
class Results:
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, batch: list[Sample]) -> None:
        with self.lock:
            self.samples.extend(batch)


def timed(client: httpx2.Client, endpoint: str, path: str, **kw) -> Sample:
    t0 = time.perf_counter()
    r = client.get(path, **kw)
    ms = (time.perf_counter() - t0) * 1000
    m = _TIMING.search(r.headers.get("server-timing", ""))
    return Sample(endpoint, r.status_code, ms, float(m.group(1)) if m else None)


def login(client: httpx2.Client, username: str) -> str:
    r = client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
    if r.status_code != 200:
        raise SystemExit(f"login of {username} failed: {r.status_code} {r.text[:300]} "
                         "(is the demo built with its users?)")
    return r.json()["access_token"]


def session_client(base: str, token: str) -> httpx2.Client:
    """A client that sends the token as bearer (API) and as the session cookie (pages)."""
    client = httpx2.Client(base_url=base, timeout=60,
                           headers={"Authorization": f"Bearer {token}",
                                    "Accept-Language": "zh-CN"})
    client.cookies.set("nengtan_session", token)
    return client


#: the sections the dashboard page asks for (src/nengtan/web/static/js/pages/dashboard.js)
DASHBOARD_PARTS = "load,top,intensity,carbon,benchmarks,alerts"


def browse(client: httpx2.Client, node: str, today: date,
           think: tuple[float, float] = (0.0, 0.0), rng=None) -> list[Sample]:
    """One round of a user looking at their dashboard, reading it for a think time, then
    looking at the energy query (the requests each page makes), and reading again."""
    month = today.strftime("%Y-%m")
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")

    def pause():
        if think[1] > 0:
            time.sleep(rng.uniform(*think) if rng else think[1])

    dashboard = [
        timed(client, "page /", "/"),
        timed(client, "api /api/dashboard", "/api/dashboard",
              params={"node": node, "parts": DASHBOARD_PARTS}),
    ]
    pause()
    query = [
        timed(client, "page /energy/query", "/energy/query", params={"node": node}),
        timed(client, "api /api/energy/query", "/api/energy/query",
              params={"node": node, "period": month, "grain": "day", "compare": "yoy,mom"}),
        timed(client, "api /api/energy/drilldown", "/api/energy/drilldown",
              params={"node": node, "period": month}),
        timed(client, "api /api/energy/totals", "/api/energy/totals",
              params={"node": node, "period": last_month}),
    ]
    pause()
    return dashboard + query


def user_thread(base: str, index: int, rounds: int, today: date, start: threading.Barrier,
                results: Results, logins: Results, failures: list[str],
                think: tuple[float, float] = (0.0, 0.0)) -> None:
    rng = random.Random(index)  # each user's think times, the same in every run
    username, node = USERS[index % len(USERS)]
    try:
        with httpx2.Client(base_url=base, timeout=60) as anon:
            t0 = time.perf_counter()
            token = login(anon, username)
            logins.add([Sample("login", 200, (time.perf_counter() - t0) * 1000, None)])
        with session_client(base, token) as client:
            browse(client, node, today)  # warm-up, not counted
            start.wait()
            for _ in range(rounds):
                results.add(browse(client, node, today, think, rng))
    except (httpx2.HTTPError, OSError, ValueError, KeyError, SystemExit,
            threading.BrokenBarrierError) as exc:  # one failing user stops the run, saying why
        failures.append(f"user {index} ({username}): {exc}")
        start.abort()


def reference(base: str, n: int, rounds: int, today: date) -> tuple[list[Sample],
                                                                    list[Sample]]:
    """The reference (``GET /api/status`` of one user, ``n`` times) and, for context, the
    browsing round of one user alone (``rounds`` times after a warm-up): the cost of each
    endpoint without contention."""
    username, node = USERS[0]
    with httpx2.Client(base_url=base, timeout=60) as anon:
        token = login(anon, username)
    with session_client(base, token) as client:
        timed(client, "ref", "/api/status")
        ref = [timed(client, "reference /api/status 1 user", "/api/status")
               for _ in range(n)]
        browse(client, node, today)
        alone = [s for _ in range(rounds) for s in browse(client, node, today)]
    return ref, alone


# -- reporting ---------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def summarise(name: str, samples: list[Sample], ref_p50: float | None) -> dict:
    ok = [s for s in samples if 200 <= s.status < 300]
    ms = [s.ms for s in ok]
    server = [s.server_ms for s in ok if s.server_ms is not None]
    statuses = defaultdict(int)
    for s in samples:
        if not 200 <= s.status < 300:
            statuses[s.status] += 1
    row = {"endpoint": name, "requests": len(samples), "errors": dict(statuses),
           "p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95), "max_ms": max(ms) if ms else None,
           "server_p50_ms": pct(server, 50), "server_p95_ms": pct(server, 95)}
    row["p50_ratio"] = row["p50_ms"] / ref_p50 if ms and ref_p50 else None
    row["p95_ratio"] = row["p95_ms"] / ref_p50 if ms and ref_p50 else None
    if statuses and set(statuses) == {404} and not ok:
        row["note"] = "missing (404): not served by this version"
    return row


def fmt(value, spec=".1f") -> str:
    return "-" if value is None else format(value, spec)


def table(rows: list[dict]) -> str:
    head = (f"{'endpoint':<36}{'n':>6}{'errors':>10}{'1u p50':>9}{'p50':>9}{'p95':>9}"
            f"{'max':>9}{'srv p50':>9}{'srv p95':>9}{'p50/ref':>9}{'p95/ref':>9}")
    lines = [head, "-" * len(head)]
    for r in rows:
        errors = ",".join(f"{k}x{v}" for k, v in sorted(r["errors"].items())) or "0"
        lines.append(f"{r['endpoint']:<36}{r['requests']:>6}{errors:>10}"
                     f"{fmt(r.get('single_user_p50_ms')):>9}{fmt(r['p50_ms']):>9}"
                     f"{fmt(r['p95_ms']):>9}{fmt(r['max_ms']):>9}{fmt(r['server_p50_ms']):>9}"
                     f"{fmt(r['server_p95_ms']):>9}{fmt(r['p50_ratio']):>9}"
                     f"{fmt(r['p95_ratio']):>9}" + (f"  {r['note']}" if r.get("note") else ""))
    return "\n".join(lines)


def main() -> int:
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="nengtan-console-load-"))
    env = dict(os.environ)
    if args.db:
        url = args.db
    else:
        url = f"sqlite:///{tmp / 'demo.db'}"
        # a fresh build keeps its evidence files and ledger key out of the working tree
        env.setdefault("NENGTAN_EVIDENCE_DIR", str(tmp / "evidence"))
        env.setdefault("NENGTAN_LEDGER_KEY", str(tmp / "ledger" / "ledger.pem"))
    if args.dashboard_max_age is not None:
        env["NENGTAN_DASHBOARD_MAX_AGE_S"] = str(args.dashboard_max_age)
    if not url.startswith("sqlite:///"):
        raise SystemExit("--db must be a SQLite URL (sqlite:////path/to/demo.db)")
    server = None
    try:
        today = demo_today(url)
        if today is None:
            build(url, env)
            today = demo_today(url)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(url, port, env, args.workers)
        say(f"serving {url} on {base}; demo today {today}")

        ref, alone = reference(base, args.ref_requests, args.single_rounds, today)
        ref_row = summarise(ref[0].endpoint, ref, None)
        ref_p50 = ref_row["p50_ms"]
        ref_row["p50_ratio"] = ref_row["p95_ratio"] = None

        lo, _, hi = args.think.partition("-")
        think = (float(lo), float(hi or lo))
        results, logins, failures = Results(), Results(), []
        barrier = threading.Barrier(args.users + 1)
        threads = [threading.Thread(target=user_thread, args=(base, i, args.rounds, today,
                                                              barrier, results, logins,
                                                              failures, think),
                                    daemon=True) for i in range(args.users)]
        for t in threads:
            t.start()
        try:
            barrier.wait(timeout=600)
        except threading.BrokenBarrierError:
            pass  # a user failed before the start: said in ``failures``, raised below
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        if failures:
            raise SystemExit("the load run failed:\n  " + "\n  ".join(failures))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.db and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    by_endpoint: dict[str, list[Sample]] = defaultdict(list)
    for s in results.samples:
        by_endpoint[s.endpoint].append(s)
    order = ["page /", "api /api/dashboard", "page /energy/query", "api /api/energy/query",
             "api /api/energy/drilldown", "api /api/energy/totals"]
    single: dict[str, list[float]] = defaultdict(list)
    for s in alone:
        if 200 <= s.status < 300:
            single[s.endpoint].append(s.ms)
    rows = [summarise(name, by_endpoint[name], ref_p50) for name in order if by_endpoint[name]]
    for row in rows:
        row["single_user_p50_ms"] = pct(single.get(row["endpoint"], []), 50)
    served = [s for s in results.samples if s.status != 404]
    overall = summarise("overall (served)", served, ref_p50)
    rows.append(overall)
    rows.append(summarise("login POST /api/auth/token", logins.samples, ref_p50))
    rows.append(ref_row)
    verdict = "ok" if overall["p95_ms"] is not None and overall["p95_ms"] < TARGET_MS else "SLOW"
    max_age = env.get("NENGTAN_DASHBOARD_MAX_AGE_S", "default")
    report = {"database": url, "demo_today": str(today), "users": args.users,
              "think_s": args.think, "workers": args.workers, "dashboard_max_age_s": max_age,
              "rounds": args.rounds, "requests": len(results.samples),
              "wall_s": wall, "throughput_rps": len(results.samples) / wall if wall else None,
              "reference_p50_ms": ref_p50, "target_p95_ms": TARGET_MS, "verdict": verdict,
              "endpoints": rows}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{args.users} users x {args.rounds} rounds, think {args.think} s, dashboard "
              f"max age {max_age}, on {url} "
              f"(demo today {today}): "
              f"{len(results.samples)} requests in {wall:.1f} s, "
              f"{report['throughput_rps']:.1f} requests/s")
        print(table(rows))
        print("latencies in ms (client side; srv = Server-Timing app;dur; 1u = one user "
              "alone before the load); ratios against the reference's p50")
        print(f"summary: p95_ms={fmt(overall['p95_ms'])} ref_p50_ms={fmt(ref_p50, '.2f')} "
              f"ratio={fmt(overall['p95_ratio'])} target_ms={TARGET_MS:.0f} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
