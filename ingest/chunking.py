"""Where chunks are cut and get their ids: sentence-aware, with overlap, sized for the model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ingest.article import Article

TITLE_TOKENS = 48  # room kept for the title that is embedded with every chunk


@dataclass(frozen=True)
class Chunk:
    """A piece of an article. `id` is `<article id>::<position>`, the same on every run."""

    id: str
    article_id: str
    index: int
    text: str
    embed_text: str  # title + text: what the model reads


def chunk_id(article_id: str, index: int) -> str:
    return f"{article_id}::{index}"


class Chunker:
    """Splits articles with llama-index's `SentenceSplitter`, counting the model's own wordpieces.

    chunk_size + the title stays within the model's window (`max_tokens`: 256 for
    all-MiniLM-L6-v2, 512 for bge-small), so no chunk text is cut off at embedding time.
    """

    def __init__(self, model_folder: Path, chunk_size: int, chunk_overlap: int, max_tokens: int = 256):
        from llama_index.core.node_parser import SentenceSplitter

        from ingest.model_files import load_tokenizer

        tokenizer = load_tokenizer(model_folder, max_tokens)
        self._tokenizer = tokenizer
        self.splitter = SentenceSplitter(
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            tokenizer=lambda text: tokenizer.encode(text, add_special_tokens=False).ids,
            paragraph_separator="\n\n",
        )

    def _short_title(self, title: str) -> str:
        ids = self._tokenizer.encode(title, add_special_tokens=False).ids
        if len(ids) <= TITLE_TOKENS:
            return title
        return self._tokenizer.decode(ids[:TITLE_TOKENS])

    def chunk(self, article: Article) -> list[Chunk]:
        """All chunks of one article, in order."""
        title = self._short_title(article.title)
        pieces = [p.strip() for p in self.splitter.split_text(article.text) if p.strip()]
        return [
            Chunk(chunk_id(article.id, i), article.id, i, piece, f"{title}\n{piece}") for i, piece in enumerate(pieces)
        ]
