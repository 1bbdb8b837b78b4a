"""`make bench-scale SCALE=N`: what a question and a new article cost as the index grows N times.

It copies the index in SPACEBOT_DATA_DIR (or, when unset, one built from `--corpus`) to a
scratch folder, never touching the source; measures the copy at 1x; grows it N-fold
without embedding anything (each extra copy of an article is its stored chunks with every
eighth word swapped for another of the article's words, so no copy is a near duplicate of
another, and its stored vectors nudged by small noise, under new ids), written to Chroma
and brought into the keyword index by its own incremental update; then measures again.

Measured at each size, each in a fresh process: a cold `spacebot ask` (wall time and the
process's peak RSS), the warm answer p50 (one process answering the questions again and
again after a first), and the time `spacebot ingest` takes to add one new article.
The last line printed is JSON: {"scale", "chunks", "cold_ask_s", "rss_mb", "warm_p50_ms",
"add_one_article_s"}, each a pair [1x, Nx].
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "which country was the 40th to sign the artemis accords?"
# Questions the warm process answers in turn (any answerable space-policy questions do).
WARM_QUESTIONS = (
    "which country was the 40th to sign the artemis accords?",
    "what did esa ministers agree to fund in 2022?",
    "what is the outer space treaty?",
    "who leads nasa?",
    "what are the rules for space debris mitigation?",
)
# Cold asks per size, the median kept: on the shared cores one cold ask varied 3.7-8.7 s (three
# alternating 1x/10x runs were within 0.5 s of each other).
COLD_RUNS = 3
WARM_ROUNDS = 3  # each question answered this many times after the warm-up: 15 timings
SWAP_EVERY = 8  # one word in eight replaced: a 16-word shingle then always holds a swapped word
NOISE = 0.01  # std of the noise added to each vector component before re-normalising (unit vectors)
NEW_ARTICLE = """Zanthoria launches its first lunar relay satellite

The Zanthoria Space Office said on Tuesday its first lunar relay satellite, Quokka-1, reached
its orbit around the Moon and will carry data for landers on the far side from next year.
"""


@dataclass
class Measure:
    chunks: int
    cold_ask_s: float
    rss_mb: float
    warm_p50_ms: float
    add_one_article_s: float


def _env(data: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPACEBOT_", "CHROMA_"))}
    env.update(SPACEBOT_DATA_DIR=str(data), PYTHONPATH=str(ROOT))
    return env


def _run(args: list[str], data: Path, echo: bool = False) -> tuple[float, float, str]:
    """Run `python args` against `data`: (wall seconds, the process's peak RSS in MB, stdout).

    The child is reaped with `os.wait4`, which reports that one process's own peak RSS.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, *args], env=_env(data), stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        if echo:
            sys.stderr.write(err.read()[-1000:])
            err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:3])} failed ({proc.returncode}): {err.read()[-1500:]}")
        return wall, usage.ru_maxrss / 1024, out.read()


def cold_ask(data: Path, runs: int = COLD_RUNS) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of `spacebot ask` in a fresh process: the median of `runs`."""
    measured = [_run(["-m", "bot.faces.cli", "ask", QUESTION], data)[:2] for _ in range(runs)]
    return statistics.median(w for w, _ in measured), statistics.median(r for _, r in measured)


def warm_p50(data: Path, rounds: int = WARM_ROUNDS) -> float:
    """The median answer time (ms) of a process that has answered once already."""
    _, _, out = _run(["-m", "eval.bench_scale", "--warm-child", "--rounds", str(rounds)], data)
    return float(out.strip().splitlines()[-1])


def warm_child(rounds: int) -> None:
    """In a child process: answer every warm question once, then time WARM_ROUNDS more rounds."""
    from bot.core.service import AnswerService
    from ingest.settings import Settings

    service = AnswerService(Settings())
    for question in WARM_QUESTIONS:
        service.answer(question, [])
    times = []
    for _ in range(rounds):
        for question in WARM_QUESTIONS:
            started = time.perf_counter()
            service.answer(question, [])
            times.append((time.perf_counter() - started) * 1000)
    print(statistics.median(times))


def add_one_article(data: Path, scratch: Path, tag: str) -> float:
    """Seconds `spacebot ingest` takes to add one new article to the index at `data`."""
    folder = scratch / f"new-{tag}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"zanthoria-relay-{tag}.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    wall, _, _ = _run(["-m", "bot.faces.cli", "ingest", str(folder)], data)
    return wall


def count_chunks(data: Path) -> int:
    """Chunks in the index at `data` (read in a child: this process never opens Chroma, whose
    embedded client would keep a stale view of a store other processes write)."""
    _, _, out = _run(["-m", "eval.bench_scale", "--probe-child"], data, echo=True)
    return int(out.strip().splitlines()[-1])


def probe_child() -> None:
    """In a child: what Chroma alone costs a fresh process (open, first query: HNSW loaded), on stderr;
    the chunk count on stdout."""
    import resource

    from ingest.settings import Settings
    from ingest.store import ChunkStore

    started = time.perf_counter()
    store = ChunkStore(Settings(), create=False)
    vector = np.ones(384, dtype=np.float32) / np.sqrt(384)
    store.query(vector, 100)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"chroma alone: open + first query {time.perf_counter() - started:.2f} s, peak RSS {rss:.0f} MB",
        file=sys.stderr,
    )
    print(store.count())


def measure(data: Path, scratch: Path, tag: str, rounds: int = WARM_ROUNDS) -> Measure:
    chunks = count_chunks(data)
    ask_s, rss = cold_ask(data, COLD_RUNS if rounds == WARM_ROUNDS else 1)
    p50 = warm_p50(data, rounds)
    add_s = add_one_article(data, scratch, tag)
    return Measure(chunks, ask_s, rss, p50, add_s)


# -- growing the copy -------------------------------------------------------------------------------
def perturb(text: str, rng: np.random.Generator) -> str:
    """`text` with every SWAP_EVERY-th word replaced by another word of the same text."""
    words = text.split(" ")
    if len(words) < 2:
        return text
    for i in range(int(rng.integers(SWAP_EVERY)), len(words), SWAP_EVERY):
        words[i] = words[int(rng.integers(len(words)))]
    return " ".join(words)


def grow(data: Path, scale: int, progress=print) -> None:
    """Add scale-1 perturbed copies of every stored article to the index at `data` (no embedding)."""
    from ingest.article_state import fingerprint
    from ingest.derived_state import ensure_keyword_index
    from ingest.settings import Settings
    from ingest.store import ChunkStore

    settings = Settings(data_dir=data)
    store = ChunkStore(settings, create=False)
    rng = np.random.default_rng(24)
    original = _read_all(store)
    for copy in range(1, scale):
        started = time.perf_counter()
        for start in range(0, len(original), store.max_batch):
            part = original[start : start + store.max_batch]
            ids, vectors, texts, metas = [], [], [], []
            for chunk_id, vector, text, meta in part:
                article_id, _, position = chunk_id.rpartition("::")
                new_article = f"{article_id}~copy{copy}"
                new_text = perturb(text, rng)
                noisy = vector + rng.normal(0, NOISE, vector.shape).astype(np.float32)
                ids.append(f"{new_article}::{position}")
                vectors.append(noisy / np.linalg.norm(noisy))
                texts.append(new_text)
                metas.append(_copied_meta(meta, new_article, copy))
            store.upsert(ids, np.array(vectors), texts, metas)
        progress(f"copy {copy}/{scale - 1} written to Chroma in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    states = store.article_states()
    ensure_keyword_index(store, settings, states)
    progress(f"keyword index updated in {time.perf_counter() - started:.1f} s ({fingerprint(states)[:8]})")


def _read_all(store) -> list[tuple[str, np.ndarray, str, dict]]:
    out = []
    offset = 0
    while True:
        page = store.collection.get(
            include=["embeddings", "documents", "metadatas"], limit=store.max_batch, offset=offset
        )
        if not page["ids"]:
            return out
        for row in zip(page["ids"], page["embeddings"], page["documents"], page["metadatas"]):
            out.append((row[0], np.asarray(row[1], dtype=np.float32), row[2], dict(row[3] or {})))
        offset += len(page["ids"])


def _copied_meta(meta: dict, article_id: str, copy: int) -> dict:
    out = dict(meta, article_id=article_id, article_hash=f"{meta.get('article_hash', '')}~{copy}")
    for key in ("url", "path", "canonical_url"):
        if out.get(key):
            out[key] = f"{out[key]}#copy{copy}"
    return out


# -- the run ---------------------------------------------------------------------------------------
def source_index(corpus: Path, scratch: Path) -> Path:
    """The index to copy: SPACEBOT_DATA_DIR, else one ingested from `corpus` into `scratch`."""
    if os.environ.get("SPACEBOT_DATA_DIR"):
        return Path(os.environ["SPACEBOT_DATA_DIR"])
    data = scratch / "source"
    _run(["-m", "bot.faces.cli", "ingest", str(corpus)], data)
    return data


def run(scale: int, corpus: Path, scratch: Path, progress=print, rounds: int = WARM_ROUNDS) -> dict:
    source = source_index(corpus, scratch)
    work = scratch / "copy"
    shutil.copytree(source, work, ignore=shutil.ignore_patterns("ingest.lock", "*.lock"))
    progress(f"copied {source} to {work}")
    small = measure(work, scratch, "1x", rounds)
    progress(f"1x: {small}")
    _, _, out = _run(["-m", "eval.bench_scale", "--grow-child", "--scale", str(scale)], work)
    progress(out.strip())
    large = measure(work, scratch, f"{scale}x", rounds)
    progress(f"{scale}x: {large}")
    pairs = {
        name: [round(getattr(small, name), 3), round(getattr(large, name), 3)]
        for name in ("chunks", "cold_ask_s", "rss_mb", "warm_p50_ms", "add_one_article_s")
    }
    return {"scale": scale, **pairs}


def section(result: dict) -> str:
    """The BENCHMARKS.md table for one run."""
    rows = [
        ("chunks", "chunks"),
        ("cold `spacebot ask`, s", "cold_ask_s"),
        ("its peak RSS, MB", "rss_mb"),
        ("warm answer p50, ms", "warm_p50_ms"),
        ("add one article (`spacebot ingest`), s", "add_one_article_s"),
    ]
    lines = [f"| SCALE={result['scale']} | 1x | {result['scale']}x | ratio |", "|---|---:|---:|---:|"]
    for label, key in rows:
        a, b = result[key]
        lines.append(f"| {label} | {a:g} | {b:g} | {b / a if a else float('nan'):.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--out", help="write the table into this BENCHMARKS.md (section bench-scale-N)")
    parser.add_argument("--rounds", type=int, default=WARM_ROUNDS, help="warm rounds over the questions")
    parser.add_argument("--smoke", action="store_true", help="one warm round: a quick check that it runs")
    parser.add_argument("--warm-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--grow-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--probe-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.warm_child:
        warm_child(args.rounds)
        return
    if args.probe_child:
        probe_child()
        return
    if args.grow_child:
        grow(Path(os.environ["SPACEBOT_DATA_DIR"]), args.scale)
        return
    if args.scale < 1:
        parser.error("--scale must be at least 1")
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as scratch:
        rounds = 1 if args.smoke else args.rounds
        say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
        result = run(args.scale, Path(args.corpus), Path(scratch), say, rounds)
    if args.out:
        from eval.benchdoc import replace_section, stamp

        command = f"make bench-scale SCALE={args.scale}"
        replace_section(Path(args.out), f"bench-scale-{args.scale}", f"{stamp(command)}\n\n{section(result)}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
