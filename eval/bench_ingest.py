"""`make bench-ingest`: ingest the whole corpus into a fresh directory and compare with bare encoding.

Records articles, chunks, wall time, chunks/s, peak memory, the ratio of the
pipeline's chunks/s to bare `SentenceTransformer.encode` over the same chunk
texts (same run, same machine), and a re-run over the unchanged corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from eval.benchdoc import replace_section, stamp


def _ingest(corpus: str, data_dir: Path) -> tuple[dict, float]:
    env = dict(os.environ, SPACEBOT_DATA_DIR=str(data_dir))
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "bot.faces.cli", "ingest", corpus, "--json"], capture_output=True, text=True, env=env
    )
    wall = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"ingest failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout), wall


def _bare_encode(data_dir: Path, batch_size: int) -> tuple[int, float]:
    """Encode the very texts the pipeline embedded (title + chunk), with nothing around it."""
    from ingest.keyword_index import KeywordIndex
    from ingest.model_files import model_dir

    table = KeywordIndex(data_dir / "bm25").table.columns
    texts = [f"{title}\n{text}" for title, text in zip(table["title"], table["text"])]
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir()), device="cpu")
    started = time.perf_counter()
    model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    return len(texts), time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", default="../shared/corpus")
    parser.add_argument("--out", default="docs/BENCHMARKS.md")
    args = parser.parse_args(argv)
    import ingest  # noqa: F401  (offline settings)
    from ingest.settings import Settings

    batch_size = Settings(_env_file=None).embed_batch_size
    with tempfile.TemporaryDirectory(prefix="spacebot-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        first, first_wall = _ingest(args.corpus, data_dir)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        second, second_wall = _ingest(args.corpus, data_dir)
        n_texts, bare_seconds = _bare_encode(data_dir, batch_size)
    pipeline_rate = first["chunks"] / first_wall
    bare_rate = n_texts / bare_seconds
    rows = [
        ("articles", f"{first['total_articles']:,}"),
        ("chunks", f"{first['chunks']:,}"),
        ("failed inputs", str(len(first["failed"]))),
        ("first run, wall time (process start to exit)", f"{first_wall:.1f} s"),
        ("pipeline chunks/s", f"{pipeline_rate:.1f}"),
        ("bare `SentenceTransformer.encode` chunks/s, same texts", f"{bare_rate:.1f}"),
        ("**ratio pipeline / bare** (target >= 0.85)", f"**{pipeline_rate / bare_rate:.2f}**"),
        ("peak memory (max RSS of the ingest process)", f"{peak_mb:,.0f} MB"),
        (
            "re-run over the unchanged corpus",
            f"{second_wall:.1f} s — {second['new']} new, {second['changed']} changed, {second['unchanged']} unchanged",
        ),
        ("**re-run / first run** (target < 5%)", f"**{100 * second_wall / first_wall:.1f}%**"),
    ]
    body = "\n".join(
        [
            "## Ingest",
            "",
            stamp("make bench-ingest"),
            "",
            f"Corpus: `{args.corpus}`, into a fresh embedded Chroma; chunk size {Settings(_env_file=None).chunk_size} "
            f"wordpieces, overlap {Settings(_env_file=None).chunk_overlap}, batch {batch_size}.",
            "",
            "| measure | value |",
            "|---|---|",
            *[f"| {k} | {v} |" for k, v in rows],
        ]
    )
    replace_section(Path(args.out), "ingest", body)
    print(body)


if __name__ == "__main__":
    main()
