"""`spacebot serve` as a real subprocess on a free loopback port, running this checkout's code
(the same process wrapper `make bench-serve` uses)."""

from __future__ import annotations

from pathlib import Path

from eval.serve_processes import Process, start_serve

START_TIMEOUT = 180  # seconds until /readyz says 200: imports, the ONNX model, a BM25 rebuild, on a busy machine


def serve_process(folder: Path, env: dict[str, str], workers: int = 1) -> Process:
    """`python -m bot.faces.cli serve --port P --workers W` in `folder` with `env`; logs to
    `folder/server.log`, whose tail is shown when it fails to come up. `wait_ready()` before use."""
    return start_serve(folder, env, workers, START_TIMEOUT)
