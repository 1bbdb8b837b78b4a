"""`make bench-scale`: the copy grows N-fold from stored chunks and vectors, the source is never touched."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_growing_a_copy_multiplies_its_chunks_and_keyword_documents(sample_settings, tmp_path):
    from eval.bench_scale import grow, perturb
    from ingest.keyword_index import KeywordIndex
    from ingest.near_duplicates import jaccard, shingle_hashes
    from ingest.settings import Settings
    from ingest.store import ChunkStore

    source = sample_settings.data_dir
    before = _digest(source)
    work = tmp_path / "copy"
    shutil.copytree(source, work)
    chunks = KeywordIndex(sample_settings.keyword_dir)
    n = len(chunks)
    grow(work, 3, progress=lambda _: None)

    settings = Settings(data_dir=work)
    assert ChunkStore(settings, create=False).count() == 3 * n
    keyword = KeywordIndex(settings.keyword_dir)
    assert len(keyword) == 3 * n
    assert len(keyword.groups) == len(chunks.groups), "a perturbed copy must not read as a near duplicate"
    assert _digest(source) == before, "the source index was modified"

    import numpy as np

    text = " ".join(f"word{i}" for i in range(200))
    copy = perturb(text, np.random.default_rng(0))
    assert jaccard(shingle_hashes(text), shingle_hashes(copy)) < 0.1


@pytest.mark.slow
def test_bench_scale_smoke_run_prints_its_json_line(sample_settings, tmp_path):
    before = _digest(sample_settings.data_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPACEBOT_", "CHROMA_"))}
    env.update(SPACEBOT_DATA_DIR=str(sample_settings.data_dir), PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "eval.bench_scale", "--scale", "2", "--smoke"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["scale"] == 2 and line["chunks"][1] == 2 * (line["chunks"][0] + 1)  # + the article added at 1x
    assert set(line) == {"scale", "chunks", "cold_ask_s", "rss_mb", "warm_p50_ms", "add_one_article_s"}
    assert all(len(v) == 2 and min(v) > 0 for k, v in line.items() if k != "scale")
    assert _digest(sample_settings.data_dir) == before
