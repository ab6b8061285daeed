"""Load benchmark of the survey's answering endpoint: PostgreSQL + gunicorn, production settings, real HTTP.

1. Creates its own database ``youjun_bench_survey`` on the PostgreSQL server (dropped again at the end), migrates
   it, collects the static files, and prepares one open campaign with enough single-use tokens (the parents' quota
   is the token count, so the caps on links and counted answers are not what is measured). Each token gets the
   one-time form nonce its answering page would have issued, rendered a minute before the load starts (the
   minimum answering time is 20 s): the load phase measures submissions, not page renders.
2. Starts gunicorn (default 2 gthread workers × 4 threads, keep-alive: the best of 2/3/4 workers, sync or
   gthread, measured on this machine) with ``YOUJUN_ENV=production`` (DEBUG off, manifest
   static storage, secure cookies; the HTTPS redirect is switched off because the benchmark talks plain HTTP).
3. Render phase (``--render-seconds``): answering pages of tokens of their own are opened (GET), each writing its
   nonce, to give the page rate next to the submission rate.
4. Load phase: ``--clients`` generator processes (http.client, keep-alive where the server allows it) submit a
   complete parents' questionnaire with the token's nonce, each token once, for ``--seconds`` seconds.
5. Replay phase: already-used tokens are submitted again with their spent nonces; every one must be refused
   (409), none may add a row.
6. Checks in the database: rows == accepted submissions (zero lost), no token with two responses (zero duplicated),
   the group counter == the counted rows, one spent nonce per row.

Prints submissions/s per 5-s window (minimum and mean), latency p50/p95/p99, errors, the checks, and writes
``bench/out/survey_load.json``. Exit status 1 if a check fails or the sustained rate misses ``--target``.

Usage: ``make bench-survey`` or ``.venv/bin/python bench/survey_load.py [--workers 3] [--clients 6]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
SERVER = "postgres://postgres@127.0.0.1:5432"
DB_NAME = "youjun_bench_survey"
WINDOW = 5.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOUJUN_") and k != "DATABASE_URL"}
    return env | {
        "DJANGO_SETTINGS_MODULE": "youjun.web.settings",
        "DATABASE_URL": f"{SERVER}/{DB_NAME}",
        "YOUJUN_ENV": "production",
        "YOUJUN_SECRET_KEY": secrets.token_urlsafe(48),
        "YOUJUN_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "YOUJUN_SSL_REDIRECT": "0",
        "YOUJUN_DATA_DIR": str(data_dir),
    }


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "youjun.web.manage", *args], env=env, check=True, cwd=ROOT)


PREPARE = """
import json, secrets, sys
from datetime import timedelta
import django
django.setup()
from django.utils import timezone
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.survey import services
from youjun.web.survey.models import Campaign, CampaignStatus, FormNonce, Link, LinkKind
n, renders = int(sys.argv[1]), int(sys.argv[2])
county, _ = OrgUnit.objects.get_or_create(code="340207", defaults={"name": "鸠江区", "level": Level.COUNTY})
quotas = services.initial_quotas(900000) | {"parents": n + renders}
campaign = services.create_campaign(county, 2024, "压力测试", 900000, quotas, None)
Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.OPEN)
services.generate_links(campaign, "parents", n + renders)
links = list(Link.objects.filter(campaign=campaign, kind=LinkKind.SINGLE).order_by("id").values_list("id", "token"))
rendered = timezone.now() - timedelta(seconds=60)
nonces, rows = [], []
for link_id, _ in links[:n]:
    value = secrets.token_urlsafe(services.NONCE_BYTES)
    nonces.append(value)
    rows.append(FormNonce(digest=services.nonce_digest(value), campaign=campaign, link_id=link_id, device=None,
                          rendered_at=rendered, expires_at=rendered + timedelta(hours=24)))
FormNonce.objects.bulk_create(rows, batch_size=2000)
questions = [q["id"] for q in campaign.questionnaire["groups"]["parents"]["questions"]]
json.dump({"campaign": campaign.pk, "tokens": [t for _, t in links[:n]], "nonces": nonces,
           "render_tokens": [t for _, t in links[n:]], "questions": questions,
           "scale": campaign.questionnaire["scale"]}, sys.stdout)
"""


def prepare(env: dict[str, str], tokens: int, renders: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", PREPARE, str(tokens), str(renders)],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout))


def _post(conn: http.client.HTTPConnection | None, port: int, path: str, body: bytes | None) -> tuple[Any, int, bytes]:
    """One POST (or a GET when ``body`` is None) on a kept-alive connection (reopened when the server closed it)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Host": "127.0.0.1"}
    for attempt in (0, 1):
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            if body is None:
                conn.request("GET", path, headers={"Host": "127.0.0.1"})
            else:
                conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            content = resp.read()
            if resp.getheader("Connection", "").lower() == "close" or resp.will_close:
                conn.close()
                conn = None
            return conn, resp.status, content
        except (ConnectionError, http.client.HTTPException, OSError):
            if conn is not None:
                conn.close()
            conn = None
            if attempt:
                raise
    raise AssertionError("unreachable")


def client(
    port: int, tokens: list[tuple[str, str | None]], body: bytes | None, start: float, deadline: float, out: Any
) -> None:
    """Closed loop: submit one token (with its nonce) after the other until the deadline, or open its page when
    ``body`` is None; (end time, latency, status, token)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while time.time() < start:
        time.sleep(0.001)
    conn: http.client.HTTPConnection | None = None
    results = []
    for token, nonce in tokens:
        if time.time() >= deadline:
            break
        data = None if body is None else body + f"&nonce={nonce}".encode()
        t0 = time.perf_counter()
        try:
            conn, status, _ = _post(conn, port, f"/survey/a/{token}/", data)
        except OSError:
            status = 0
        results.append((time.time(), time.perf_counter() - t0, status, token))
    out.put((results, time.process_time()))


def run_phase(
    port: int,
    tokens: list[tuple[str, str | None]],
    body: bytes | None,
    clients: int,
    seconds: float,
    cpu: dict[str, float] | None = None,
) -> list[tuple[Any, ...]]:
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    start = time.time() + 1.0
    procs = [
        ctx.Process(target=client, args=(port, tokens[i::clients], body, start, start + seconds, queue))
        for i in range(clients)
    ]
    for p in procs:
        p.start()
    results: list[tuple[Any, ...]] = []
    for _ in procs:
        part, cpu_seconds = queue.get()
        results += part
        if cpu is not None:
            cpu["clients"] = cpu.get("clients", 0.0) + cpu_seconds
    for p in procs:
        p.join()
    return sorted(results)


def windows(results: list[tuple[Any, ...]], seconds: float) -> list[float]:
    """Accepted submissions per second in each full 5-s window of the load phase."""
    ok = [r[0] for r in results if r[2] == 200]
    if not ok:
        return []
    t0 = min(r[0] - r[1] for r in results)
    n = int(seconds // WINDOW)
    counts = [0] * n
    for t in ok:
        i = int((t - t0) // WINDOW)
        if 0 <= i < n:
            counts[i] += 1
    return [c / WINDOW for c in counts]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


class CpuSampler(threading.Thread):
    """CPU seconds used by the gunicorn workers and the benchmark database's PostgreSQL backends, read from /proc.

    The machine is shared, so the submissions/s depend on what else runs; CPU per submission does not, and gives
    the capacity of two idle cores (2,000 ms ÷ CPU ms per submission). Backends are sampled every 0.5 s (Django
    reconnects after ``CONN_MAX_AGE``; a closed backend's last sample is kept).
    """

    def __init__(self, master: int) -> None:
        super().__init__(daemon=True)
        self.master, self.ticks = master, {"server": {}, "database": {}}  # type: dict[str, dict[int, int]]
        self.running = True
        self.hz = os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _stat(pid: str) -> tuple[int, int] | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return int(fields[1]), int(fields[11]) + int(fields[12])  # ppid, utime + stime

    def sample(self) -> None:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            stat = self._stat(pid)
            if stat is None:
                continue
            ppid, ticks = stat
            if ppid == self.master or int(pid) == self.master:
                self.ticks["server"][int(pid)] = ticks
            else:
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                if DB_NAME.encode() in cmdline and cmdline.startswith(b"postgres"):
                    self.ticks["database"][int(pid)] = ticks

    def run(self) -> None:
        while self.running:
            self.sample()
            time.sleep(0.5)

    def seconds(self) -> dict[str, float]:
        return {k: sum(v.values()) / self.hz for k, v in self.ticks.items()}


def db_checks(campaign: int) -> dict[str, int]:
    import psycopg

    def one(conn: Any, sql: str) -> int:
        row = conn.execute(sql, (campaign,)).fetchone()
        return int(row[0]) if row and row[0] is not None else -1

    with psycopg.connect(f"{SERVER}/{DB_NAME}", connect_timeout=5) as conn:
        return {
            "rows": one(conn, "SELECT count(*) FROM survey_response WHERE campaign_id = %s"),
            "duplicated_tokens": one(
                conn,
                "SELECT count(*) FROM (SELECT link_id FROM survey_response WHERE campaign_id = %s "
                "GROUP BY link_id HAVING count(*) > 1) d",
            ),
            "counted": one(
                conn, "SELECT counted FROM survey_groupcount WHERE campaign_id = %s AND \"group\" = 'parents'"
            ),
            "excess": one(conn, "SELECT count(*) FROM survey_response WHERE campaign_id = %s AND excess"),
            "spent_nonces": one(
                conn, "SELECT count(*) FROM survey_formnonce WHERE campaign_id = %s AND used_at IS NOT NULL"
            ),
        }


def start_server(
    env: dict[str, str], port: int, workers: int, worker_class: str, threads: int
) -> subprocess.Popen[bytes]:
    cmd = [
        str(Path(sys.executable).parent / "gunicorn"),
        "youjun.web.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--keep-alive",
        "5",
        "--backlog",
        "2048",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/survey/a/warm-up/", headers={"Host": "127.0.0.1"})
            if conn.getresponse().status == 404:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=6, help="load generator processes")
    parser.add_argument("--tokens", type=int, default=45_000)
    parser.add_argument("--replay", type=int, default=2_000)
    parser.add_argument("--render-seconds", type=float, default=10.0, help="seconds of page renders (GET)")
    parser.add_argument("--render-tokens", type=int, default=5_000)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of warm-up before the measured phase")
    parser.add_argument("--warmup-tokens", type=int, default=3_000)
    parser.add_argument("--target", type=float, default=200.0)
    parser.add_argument("--keep", action="store_true", help="do not drop the database at the end")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="youjun-bench-survey-"))
    env = _env(data_dir)
    _admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    _admin(f"CREATE DATABASE {DB_NAME}")
    server = None
    try:
        print(f"准备数据库 {DB_NAME}（迁移、静态文件、{args.tokens:,} 个一次性链接）…", flush=True)
        _manage(env, "migrate", "--verbosity", "0")
        _manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        setup = prepare(env, args.tokens, args.render_tokens)
        tokens: list[tuple[str, str | None]] = list(zip(setup["tokens"], setup["nonces"], strict=True))
        body = urlencode({q: setup["scale"][i % 3] for i, q in enumerate(setup["questions"])}).encode()
        port = _free_port()
        server = start_server(env, port, args.workers, args.worker_class, args.threads)
        print(
            f"gunicorn：{args.workers} 个 {args.worker_class} 进程；负载：{args.clients} 个客户端进程，"
            f"{args.seconds:.0f} 秒",
            flush=True,
        )
        # Warm-up on tokens of its own: workers import lazily and open their database connections.
        warm = run_phase(port, tokens[-args.warmup_tokens :], body, args.clients, args.warmup)
        warm_accepted = sum(1 for r in warm if r[2] == 200)
        pages = [(t, None) for t in setup["render_tokens"]]
        renders = run_phase(port, pages, None, args.clients, args.render_seconds) if args.render_seconds else []
        sampler = CpuSampler(server.pid)
        sampler.sample()
        cpu_before = sampler.seconds()
        sampler.start()
        cpu: dict[str, float] = {}
        load = run_phase(port, tokens[: -args.warmup_tokens], body, args.clients, args.seconds, cpu)
        sampler.running = False
        sampler.join()
        sampler.sample()
        cpu |= {k: v - cpu_before[k] for k, v in sampler.seconds().items()}
        used = [r[3] for r in load if r[2] == 200]
        nonce_of = dict(tokens)
        replay_tokens = [(t, nonce_of[t]) for t in used[: args.replay]]
        before_replay = db_checks(setup["campaign"])
        replay = run_phase(port, replay_tokens, body, args.clients, 120.0)
        after = db_checks(setup["campaign"])
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        if not args.keep:
            _admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        shutil.rmtree(data_dir, ignore_errors=True)

    accepted = len(used)
    errors = len(load) - accepted
    rates = windows(load, args.seconds)
    latencies = [r[1] * 1000 for r in load]
    replay_refused = sum(1 for r in replay if r[2] == 409)
    rendered_ok = [r for r in renders if r[2] == 200]
    render_rates = windows(renders, args.render_seconds) if args.render_seconds >= WINDOW else []
    figures = {
        "workers": args.workers,
        "worker_class": args.worker_class,
        "clients": args.clients,
        "seconds": args.seconds,
        "requests": len(load),
        "accepted": accepted,
        "errors": errors,
        "status_counts": {str(s): sum(1 for r in load if r[2] == s) for s in sorted({r[2] for r in load})},
        "rate_min": min(rates) if rates else 0.0,
        "rate_mean": statistics.fmean(rates) if rates else 0.0,
        "rate_overall": accepted / args.seconds,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "rows": before_replay["rows"],
        "warmup_accepted": warm_accepted,
        "lost": warm_accepted + accepted - before_replay["rows"],
        "duplicated_tokens": after["duplicated_tokens"],
        "replayed": len(replay),
        "replay_refused": replay_refused,
        "rows_after_replay": after["rows"],
        "counted": after["counted"],
        "excess": after["excess"],
        "spent_nonces": after["spent_nonces"],
        "renders": len(renders),
        "renders_ok": len(rendered_ok),
        "render_rate_overall": len(rendered_ok) / args.render_seconds if args.render_seconds else 0.0,
        "render_rate_min": min(render_rates) if render_rates else 0.0,
        "render_p50_ms": percentile([r[1] * 1000 for r in renders], 50),
        "windows": rates,
        "cpu_seconds": cpu,
        "cpu_ms_per_submission": {k: 1000 * v / accepted for k, v in cpu.items()} if accepted else {},
    }
    per = figures["cpu_ms_per_submission"]
    served = per.get("server", 0.0) + per.get("database", 0.0)
    figures["capacity_server_db"] = 2000 / served if served else 0.0
    figures["capacity_all"] = 2000 / (served + per.get("clients", 0.0)) if served else 0.0
    report(figures, args.target)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "survey_load.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    ok = (
        figures["lost"] == 0
        and figures["duplicated_tokens"] == 0
        and replay_refused == len(replay) == len(replay_tokens)
        and after["rows"] == before_replay["rows"]
        and after["counted"] == after["rows"] - after["excess"]
        and after["spent_nonces"] == after["rows"]
        and len(rendered_ok) == len(renders)
        and errors == 0
        and figures["rate_min"] >= args.target
    )
    print("结论 / verdict:", "通过 PASS" if ok else "未通过 FAIL")
    return 0 if ok else 1


def report(f: dict[str, Any], target: float) -> None:
    rows = [
        (
            "持续提交速率（5 秒窗口最低）",
            "sustained rate, min of 5-s windows",
            f"{f['rate_min']:.1f} /s",
            f"≥ {target:.0f} /s",
        ),
        ("持续提交速率（5 秒窗口平均）", "sustained rate, mean of 5-s windows", f"{f['rate_mean']:.1f} /s", ""),
        ("已接受提交", "accepted submissions", f"{f['accepted']:,}", ""),
        (
            "延迟 p50 / p95 / p99",
            "latency p50 / p95 / p99",
            f"{f['p50_ms']:.1f} / {f['p95_ms']:.1f} / {f['p99_ms']:.1f} ms",
            "",
        ),
        ("错误", "errors", f"{f['errors']:,} {f['status_counts']}", "0"),
        ("丢失（已接受 − 库中行数，含预热）", "lost (accepted incl. warm-up − rows)", f"{f['lost']:,}", "0"),
        ("重复（一个令牌多行）", "duplicated tokens", f"{f['duplicated_tokens']:,}", "0"),
        ("重放被拒绝", "replays refused (409)", f"{f['replay_refused']:,} / {f['replayed']:,}", "all"),
        ("重放后行数不变", "rows unchanged by replay", f"{f['rows']:,} → {f['rows_after_replay']:,}", "equal"),
        (
            "计数 = 计入行数；已用随机数 = 行数",
            "counter = counted rows; spent nonces = rows",
            f"{f['counted']:,} / {f['spent_nonces']:,} (excess {f['excess']:,})",
            "equal",
        ),
        (
            "问卷页面（GET，写入随机数）",
            "answering pages (GET, nonce written)",
            f"{f['render_rate_overall']:.1f} /s, p50 {f['render_p50_ms']:.1f} ms, {f['renders_ok']:,}/{f['renders']:,}",
            "",
        ),
        ("每份 CPU：服务 / 数据库 / 压测端", "CPU per submission: server / db / load gen", _cpu(f), ""),
        ("两核空闲时的容量（含压测端）", "capacity of 2 idle cores (incl. load gen)", _capacity(f), ""),
    ]
    width = max(len(r[1]) for r in rows)
    print()
    print(f"gunicorn {f['workers']} × {f['worker_class']}, {f['clients']} client processes, {f['seconds']:.0f} s")
    for zh, en, value, want in rows:
        print(f"  {en:<{width}}  {value:<34} {want:<8} {zh}")
    print("  5-s windows:", " ".join(f"{r:.0f}" for r in f["windows"]))


def _cpu(f: dict[str, Any]) -> str:
    per = f["cpu_ms_per_submission"]
    return " / ".join(f"{per.get(k, 0.0):.2f}" for k in ("server", "database", "clients")) + " ms"


def _capacity(f: dict[str, Any]) -> str:
    return f"{f['capacity_server_db']:.0f} /s ({f['capacity_all']:.0f} /s)"


if __name__ == "__main__":
    sys.exit(main())
