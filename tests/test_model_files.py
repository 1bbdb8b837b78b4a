"""The bundled model is the one we expect, and the process stays offline."""

import os

from ingest.model_files import MODEL_SHA256, file_sha256, model_dir


def test_bundled_model_weights_have_the_pinned_sha256():
    weights = model_dir() / "model.safetensors"
    assert weights.exists(), f"bundled model missing at {weights}"
    assert file_sha256(weights) == MODEL_SHA256


def test_importing_the_package_pins_the_process_offline():
    import ingest  # noqa: F401

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert os.environ["ANONYMIZED_TELEMETRY"] == "False"


def test_onnx_query_vectors_match_sentence_transformers(sample_settings, embedder):
    from ingest.onnx_encoder import OnnxEncoder

    texts = [
        "who signed the artemis accords for uruguay?",
        "China and Russia plan a joint research station on the Moon. " * 8,
    ]
    onnx = OnnxEncoder(sample_settings.onnx_dir).encode(texts)
    reference = embedder.encode(texts)
    cosines = (onnx * reference).sum(axis=1)
    assert cosines.min() >= 0.999, cosines
