"""`make cluster-demo`: two `spacebot serve` replicas sharing a Chroma server and PostgreSQL, on loopback.

Starts PostgreSQL (initdb + pg_ctl in a temp folder) and `chroma run`,
ingests the sample corpus into the Chroma server, starts two replicas (each
with its own data folder), asks a question through replica A, continues the
conversation through replica B, prints both answers, and stops everything.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from deploy.local_postgres import PostgresServer, postgres_bin_dir

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "ingest" / "samples" / "space-news"
BIN = Path(sys.executable).parent
START_TIMEOUT = 120  # seconds a server may take to answer its health check
QUESTION = "who signed the artemis accords for germany?"
FOLLOW_UP = "when did they sign?"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ok(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"error: {url} did not come up") from None
            time.sleep(0.5)


def post(url: str, payload: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as reply:
        return json.load(reply)


def main() -> None:
    if postgres_bin_dir() is None:
        raise SystemExit("error: PostgreSQL is not installed (apt-get install postgresql)")
    work = Path(tempfile.mkdtemp(prefix="spacebot-cluster-"))
    procs: list[subprocess.Popen] = []
    database = PostgresServer(postgres_bin_dir())
    try:
        chroma_port = free_port()
        procs.append(
            subprocess.Popen(
                [
                    str(BIN / "chroma"),
                    "run",
                    "--path",
                    str(work / "chroma"),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(chroma_port),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_ok(f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat", procs[-1])
        shared = {"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(chroma_port), "SPACEBOT_DATABASE_URL": database.url}
        print(f"postgresql on 127.0.0.1:{database.port}, chroma on 127.0.0.1:{chroma_port}")
        env = {**os.environ, **shared, "SPACEBOT_DATA_DIR": str(work / "ingest")}
        subprocess.run([str(BIN / "spacebot"), "ingest", str(SAMPLE)], env=env, check=True)
        urls = []
        for name in ("a", "b"):
            data = work / name
            shutil.copytree(work / "ingest" / "model", data / "model")  # the ONNX query model
            port = free_port()
            env = {**os.environ, **shared, "SPACEBOT_DATA_DIR": str(data)}
            procs.append(
                subprocess.Popen(
                    [str(BIN / "spacebot"), "serve", "--port", str(port)],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
            wait_ok(urls[-1] + "/readyz", procs[-1])
            print(f"replica {name} on {urls[-1]}")
        first = post(urls[0] + "/v1/ask", {"question": QUESTION})
        print(f"\nA> {QUESTION}\n{first['answer']}")
        second = post(urls[1] + "/v1/ask", {"question": FOLLOW_UP, "conversation_id": first["conversation_id"]})
        print(f"\nB> {FOLLOW_UP}  (same conversation, other replica)\n{second['answer']}")
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        database.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
