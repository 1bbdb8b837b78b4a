"""The reader's network: the ms-marco cross-encoder's int8 ONNX weights dequantized into torch, a 6-layer
student made from every other layer, and the int8 ONNX export. Training only (torch is not on the query path).

The teacher's ONNX file keeps Hugging Face BERT names for embeddings, biases and LayerNorms; each int8
matrix is `NAME_quantized` with `NAME_scale` and `NAME_zero_point`, and the matrices of the linear layers
are named after their MatMul node ("/bert/encoder/layer.0/attention/self/query/MatMul_quant"), stored
[in, out]: (q - zero point) x scale, transposed, is the torch weight.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Teacher layers the student keeps (DistilBERT-style every other one). Untrained, on 59 held-apart synthetic
# questions (positive ranked first / pair AUROC): 0,2,4,6,8,10 0.949 / 0.955; 1,3,...,11 0.864 / 0.853;
# 0,1,2,9,10,11 0.847 / 0.819; 0-5 0.169 / 0.48 (docs/BENCHMARKS.md, "Reader").
STUDENT_LAYERS = (0, 2, 4, 6, 8, 10)


def teacher_path() -> Path:
    from bot.core.rerank import MODEL_FILE, bundled_dir

    return bundled_dir() / MODEL_FILE


def dequantized_state(onnx_path: Path) -> dict[str, np.ndarray]:
    """Hugging Face BERT parameter names -> float arrays, read from the int8 ONNX cross-encoder."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    state: dict[str, np.ndarray] = {}
    for name, value in list(init.items()):
        if name.endswith("_quantized") and f"{name[:-10]}_scale" in init:
            base = name[: -len("_quantized")]
            scale, zero = init[f"{base}_scale"], init[f"{base}_zero_point"]
            init[base] = (value.astype(np.float32) - zero.astype(np.float32)) * scale.astype(np.float32)
    for name, value in init.items():
        if name.startswith(("bert.", "classifier.")) and not name.endswith(("_scale", "_zero_point", "_quantized")):
            state[name] = value.astype(np.float32)
    for node in model.graph.node:  # linear layers: weights named after their MatMul node, [in, out]
        if node.op_type in ("MatMulInteger", "MatMul", "Gemm") and node.name:
            second = node.input[1]
            weight = second[: -len("_quantized")] if second.endswith("_quantized") else second
            if weight not in init or init[weight].ndim != 2:
                continue
            path = node.name.strip("/").rsplit("/", 1)[0].replace("/", ".")
            matrix = init[weight]
            state[f"{path}.weight"] = (matrix.T if node.op_type != "Gemm" else matrix).astype(np.float32)
    return state


def bert_config(layers: int):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=30522,
        hidden_size=384,
        num_hidden_layers=layers,
        num_attention_heads=12,
        intermediate_size=1536,
        max_position_embeddings=512,
        type_vocab_size=2,
        num_labels=1,
    )


def load_bert(state: dict[str, np.ndarray], layers: tuple[int, ...]):
    """A BertForSequenceClassification holding `layers` of the dequantized teacher (renumbered 0..n-1)."""
    import torch
    from transformers import BertForSequenceClassification

    model = BertForSequenceClassification(bert_config(len(layers)))
    renumber = {f"layer.{old}.": f"layer.{new}." for new, old in enumerate(layers)}
    tensors = {}
    for name, value in state.items():
        if ".encoder.layer." in name:
            old = name.split("layer.")[1].split(".")[0]
            if int(old) not in layers:
                continue
            name = name.replace(f"layer.{old}.", renumber[f"layer.{old}."], 1)
        tensors[name] = torch.from_numpy(np.ascontiguousarray(value))
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    if missing or unexpected:
        raise RuntimeError(f"teacher weights do not fit BERT: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model


def export_int8(model, tokenizer, out_path: Path, work_dir: Path) -> Path:
    """torch -> float ONNX -> int8 (dynamic quantisation of the weights); returns the float file's path."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from bot.core.reader import encode, pair_text

    model.eval()
    feed = {k: torch.from_numpy(v) for k, v in encode(tokenizer, [pair_text("a question?", "A sentence.")]).items()}
    float_path = work_dir / "reader-float.onnx"
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["logits"] = {0: "batch"}
    with torch.no_grad():
        torch.onnx.export(
            model,
            (feed["input_ids"], feed["attention_mask"], feed["token_type_ids"]),
            str(float_path),
            input_names=names,
            output_names=["logits"],
            dynamic_axes=axes,
            opset_version=14,
            dynamo=False,
        )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    quantize_dynamic(str(float_path), str(out_path), weight_type=QuantType.QInt8, per_channel=True)
    return float_path
