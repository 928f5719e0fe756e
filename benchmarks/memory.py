"""What real models take in memory, measured next to our estimate; and the server's own RSS.

    python -m benchmarks.memory [--contexts 2048 4096 8192] [--model NAME[=GGUF]]...
                                [--synthetic] [--json rows.json] [--no-server]
                                [--soak-requests 20000 [--soak-outstanding 64 4]]

Models: the real models of the tier (``tests/real/models.py``: SmolLM2 135M, Gemma 3 270M,
Qwen2.5-Coder 0.5B and 1.5B, those whose weights are installed; ``--model NAME=PATH`` names a
GGUF file directly). Each is loaded by llama.cpp (``llama-cpp-python``) at each context with
Ollama's runner defaults — ``num_batch``/``num_ubatch`` 512, f16 KV cache, flash attention (what
``auto`` gives on a CPU), sliding-window caches of window + batch (llama-server's default) —
on 1 thread, then given one full batch of prompt (the first 512 tokens of the standard
library's ``textwrap.py``) and 8 greedy tokens. One fresh process per model × context × load,
so that nothing of an earlier load stays resident.

Method: the process's resident memory (psutil RSS) after the completion minus its RSS just
before the load (the interpreter with llama.cpp imported and initialised). Two loads:

* ``mmap`` (Ollama's default): where llama.cpp repacks 4-bit weights for the CPU (AVX2: Q4_K
  and Q4_0 tensors), the mapped originals stay resident next to the repacked copy: page
  cache, which the kernel takes back without swapping;
* ``read``: the weights read into memory (no mmap): every byte is the model's own. This is
  what the model *needs*, and what the estimate (``ollama_lsp/models/memory.py``, from the
  GGUF's facts through the server's own ``/api/show`` parsing) is compared with.

The server: ``ollama-lsp``'s RSS idle against the double, and (``--soak-requests``) the RSS
lines of ``benchmarks/soak.py`` run with 64 and with 4 requests outstanding.

``--synthetic`` adds two models the estimate was not fitted on: random Q8_0 weights with the
geometry of TinyLlama 1.1B (22 layers, SentencePiece vocabulary of 32,000) and of CodeLlama 7B
(3 of its 32 layers: embedding 4096, feed-forward 11008, 32 KV heads), written once (~2 GB,
a few minutes) into ``.cache/memory-benchmark/``.

Also printed: what Ollama reports as ``/api/ps`` ``size`` for such a runner — the sum of the
model, KV, compute and output buffers llama.cpp logs (Ollama parses them from llama-server's
output), which counts the whole logits buffer (vocabulary × batch × 4 bytes) although only the
last token's row is ever written. ``tests/ollama_double/measured.py`` records these numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psutil

from benchmarks.harness import double_process, start_server, stop_server
from ollama_lsp.models.facts import ModelFacts, facts_of
from ollama_lsp.models.memory import breakdown
from ollama_lsp.ollama.types import show_info
from tests.ollama_double.gguf_meta import read_meta

MODELS = ("smollm2:135m", "gemma3:270m", "qwen2.5-coder:0.5b", "qwen2.5-coder:1.5b")
CONTEXTS = (2048, 4096, 8192)
PROMPT_TOKENS = 512
GENERATED = 8
BUFFER_LINE = re.compile(r"(\S+)\s+(model|KV|compute|output|RS)\s+buffer size\s*=\s*([\d.]+)\s*MiB")


def child(path: str, num_ctx: int, mmap: bool) -> None:
    """Load, complete, and print the RSS added (``--child``; runs in a fresh process)."""
    import textwrap

    import llama_cpp

    llama_cpp.llama_backend_init()
    me = psutil.Process()
    before = me.memory_info().rss
    llm = llama_cpp.Llama(
        path, n_ctx=num_ctx, n_batch=512, n_ubatch=512, n_threads=1, n_threads_batch=1,
        flash_attn=True, swa_full=False, use_mmap=mmap, verbose=True,
    )  # fmt: skip
    source = Path(textwrap.__file__).read_bytes()
    prompt = llm.tokenize(source, add_bos=False)[:PROMPT_TOKENS]
    for n, _token in enumerate(llm.generate(prompt, temp=0.0), 1):
        if n >= GENERATED:
            break
    after = me.memory_info()
    print(json.dumps({"rss": after.rss - before, "prompt": len(prompt)}))


@dataclass(frozen=True)
class Load:
    rss: int
    """RSS added by the load and the completion."""
    buffers: int
    """llama.cpp's buffers (model, KV, compute, output): Ollama's ``/api/ps`` size."""


def measure(path: Path, num_ctx: int, mmap: bool) -> Load:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", "--child", str(path), str(num_ctx),
         "mmap" if mmap else "read"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result = json.loads(done.stdout.strip().splitlines()[-1])
    buffers = sum(float(m[3]) for m in BUFFER_LINE.finditer(done.stderr))
    return Load(result["rss"], round(buffers * 2**20))


def facts_from_gguf(path: Path) -> ModelFacts:
    """The facts as the server gets them: the GGUF's metadata shaped as ``/api/show`` sends
    it (arrays emptied, the vocabulary in ``tensors``), through ``show_info`` and ``facts_of``."""
    meta = read_meta(path)
    info = {**meta.scalars, **{key: [] for key in meta.arrays}}
    arch = meta.scalars["general.architecture"]
    vocab = meta.arrays["tokenizer.ggml.tokens"]
    embd = meta.scalars[f"{arch}.embedding_length"]
    tensors = [{"name": "token_embd.weight", "shape": [embd, vocab]}]
    facts = facts_of(show_info({"model_info": info, "tensors": tensors}))
    assert facts is not None, path
    return facts


#: name -> (layers, embedding, heads, KV heads, feed-forward, vocabulary, training context)
SYNTHETIC = {
    "synthetic-tinyllama": (22, 2048, 32, 4, 5632, 32000, 2048),
    "synthetic-codellama-7b-3-layers": (3, 4096, 32, 32, 11008, 32016, 16384),
}


def synthetic(name: str) -> Path:
    """A random-weight Q8_0 llama GGUF of ``SYNTHETIC[name]``'s geometry (written once)."""
    import gguf
    import numpy as np
    from gguf.quants import quantize

    path = Path(__file__).resolve().parents[1] / ".cache" / "memory-benchmark" / f"{name}.gguf"
    if path.is_file():
        return path
    layers, embd, heads, kv, ff, vocab, ctx = SYNTHETIC[name]
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    w = gguf.GGUFWriter(str(partial), "llama")
    w.add_context_length(ctx)
    w.add_embedding_length(embd)
    w.add_block_count(layers)
    w.add_feed_forward_length(ff)
    w.add_head_count(heads)
    w.add_head_count_kv(kv)
    w.add_rope_dimension_count(embd // heads)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    specials = ["<unk>", "<s>", "</s>", *(f"<0x{b:02X}>" for b in range(256))]
    pieces = [f"{'▁' if i % 2 else ''}{i:x}" for i in range(vocab - len(specials))]
    w.add_tokenizer_model("llama")
    w.add_token_list(specials + pieces)
    w.add_token_scores([0.0] * len(specials) + [-float(i) for i in range(len(pieces))])
    kinds = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    kinds += [gguf.TokenType.BYTE] * 256 + [gguf.TokenType.NORMAL] * len(pieces)
    w.add_token_types([int(k) for k in kinds])
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    rng = np.random.default_rng(0)
    q8 = gguf.GGMLQuantizationType.Q8_0

    def matrix(tensor: str, rows: int, cols: int) -> None:
        data = quantize(rng.standard_normal((rows, cols), dtype=np.float32) * 0.02, q8)
        w.add_tensor(tensor, data, raw_shape=data.shape, raw_dtype=q8)

    ones = np.ones(embd, dtype=np.float32)
    matrix("token_embd.weight", vocab, embd)
    w.add_tensor("output_norm.weight", ones)
    matrix("output.weight", vocab, embd)
    for n in range(layers):
        w.add_tensor(f"blk.{n}.attn_norm.weight", ones)
        w.add_tensor(f"blk.{n}.ffn_norm.weight", ones)
        for tensor, rows, cols in (("attn_q", embd, embd), ("attn_k", kv * embd // heads, embd),
                                   ("attn_v", kv * embd // heads, embd), ("attn_output", embd, embd),
                                   ("ffn_gate", ff, embd), ("ffn_up", ff, embd), ("ffn_down", embd, ff)):  # fmt: skip
            matrix(f"blk.{n}.{tensor}.weight", rows, cols)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    partial.replace(path)
    return path


def weights(name: str) -> Path | None:
    from tests.real.models import weights_path

    try:
        return weights_path(name)
    except (KeyError, FileNotFoundError):
        return None


def mb(n: float) -> str:
    return f"{n / 1e6:,.0f}"


def run_models(models: dict[str, Path], contexts: list[int]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    print("| model | file MB | n_ctx | RSS, mmap (as Ollama runs it) | RSS, weights read in "
          "(the need) | estimate | error | Ollama's /api/ps size |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, path in models.items():
        facts, size = facts_from_gguf(path), path.stat().st_size
        # Ollama caps num_ctx at the model's training context.
        for num_ctx in sorted({min(asked, facts.context_length) for asked in contexts}):
            mapped, read = measure(path, num_ctx, True), measure(path, num_ctx, False)
            guess = breakdown(size, facts, num_ctx).total
            error = (guess - read.rss) / read.rss * 100
            print(f"| {name} | {mb(size)} | {num_ctx} | {mb(mapped.rss)} | {mb(read.rss)} | "
                  f"{mb(guess)} | {error:+.1f} % | {mb(mapped.buffers)} |", flush=True)  # fmt: skip
            rows.append({"model": name, "num_ctx": num_ctx, "rss_mmap": mapped.rss,
                         "rss_read": read.rss, "estimate": guess, "ps_size": mapped.buffers})  # fmt: skip
    return rows


async def server_idle_rss() -> float:
    """``ollama-lsp``'s RSS (MB) once initialized against the double, idle."""
    with double_process() as host:
        client = await start_server(host, {})
        await asyncio.sleep(2.0)  # imports and the first model facts settled
        rss = psutil.Process(client._server.pid).memory_info().rss  # type: ignore[union-attr]
        await stop_server(client)
    return rss / 1e6


def soak_rss(requests: int, outstanding: int) -> list[str]:
    """The soak's RSS lines (``benchmarks/soak.py``: after init, after warm-up, at the end)."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.soak", "--requests", str(requests),
         "--outstanding", str(outstanding)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return [line.strip() for line in done.stdout.splitlines() if "RSS" in line]


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4] == "mmap")
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contexts", type=int, nargs="+", default=list(CONTEXTS))
    parser.add_argument("--model", action="append", default=[], help="NAME or NAME=GGUF")
    parser.add_argument("--no-server", action="store_true", help="models only")
    parser.add_argument("--soak-requests", type=int, default=0, help="0: no soak")
    parser.add_argument("--soak-outstanding", type=int, nargs="+", default=[64, 4])
    parser.add_argument("--json", help="write the model rows to this file")
    parser.add_argument("--synthetic", action="store_true", help="also the unfitted geometries")
    args = parser.parse_args()
    models: dict[str, Path] = {}
    for spec in args.model or MODELS:
        name, _, given = spec.partition("=")
        path = Path(given) if given else weights(name)
        if path is None or not path.is_file():
            print(f"({name}: weights not installed, skipped)", file=sys.stderr)
            continue
        models[name] = path
    if args.synthetic:
        models |= {name: synthetic(name) for name in SYNTHETIC}
    rows = run_models(models, args.contexts) if models else []
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    if not args.no_server:
        print(f"\nollama-lsp RSS idle: {asyncio.run(server_idle_rss()):.1f} MB")
    for outstanding in args.soak_outstanding if args.soak_requests else []:
        print(f"ollama-lsp under benchmarks/soak.py ({args.soak_requests} requests, "
              f"{outstanding} outstanding):")  # fmt: skip
        for line in soak_rss(args.soak_requests, outstanding):
            print(f"  {line}")


if __name__ == "__main__":
    main()
