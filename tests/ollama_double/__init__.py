"""A protocol-faithful Ollama test double: real HTTP, Ollama's bytes, scripted or real models.

    with OllamaDouble() as double:            # or the ``ollama_double`` pytest fixture
        double.url, double.host                # "http://127.0.0.1:PORT", "127.0.0.1:PORT"

Models: ``OllamaDouble(installed=[...], version="0.12.0")``; default installed codellama:7b-code,
tinyllama:1.1b-chat-v1-q4_0, qwen2.5-coder:1.5b-base; more pullable (``catalogue.LIBRARY``).
``install(name)``, ``uninstall(name)``, ``installed`` (names), ``loaded()`` (runners, ps order).

Engines: the answers come from the scripted engine below unless a real one is given:
``OllamaDouble(installed=["smollm2:135m"], engine=LlamaEngine(threads=1))`` (``from
tests.ollama_double.engines.llama import LlamaEngine``) runs the catalogue's real models
(``smollm2:135m``, ``gemma3:270m``, ``tinyfim:latest``; weights from ``tests/real/models.py``)
with llama.cpp: real tokens, prefix KV reuse, ``num_ctx`` reloads, stop on disconnect; other
models stay scripted. ``double.engine.busy`` / ``.wait_idle(timeout)``: is llama.cpp working?

Answers: ``script(text, *, model=None, when=None, times=None)`` (newest first; ``when(body)``;
``times`` consumed), ``set_responder(fn(body) -> str | None)``, ``clear_scripts()``; default
``DEFAULT_ANSWER``. One streamed chunk per token of ``re.findall(r"\\s+|\\w+|[^\\w\\s]", text)``;
``options.stop`` / ``num_predict`` and the model's PARAMETER stops cut it as Ollama's runner does.
With ``"logprobs": true`` each token has Ollama's ``logprobs`` entry; its ``top_logprobs`` are the
token, its variants, then fillers (``engines.scripted.scripted_alternatives``), or what
``rank(token, alternatives)`` set.

Time: ``latency`` (``Latency``: load_s, first_token_s, per_token_s, prompt_token_s,
pull_tick_s=0.06), settable any time; ``advance_clock(seconds)`` expires keep-alives, no sleeping.

Faults: ``inject_fault(kind, *, path="/api/generate", after_chunks=0, message=None, status=500,
times=1)`` (``times=None``: every request); kinds http_error, error_line, malformed_line,
truncate, abort, hang (after_chunks=0: before headers). Only valid, answering requests take one
(not 4xx, not load/unload); oldest fault first; ``clear_faults()``.

Records: ``requests`` (copies of ``RecordedRequest``: method, path, body, status, phase, model,
rendered_prompt, prompt_tokens, truncated, prompt_eval_count (tokens evaluated: the prompt
cache covered the rest), prompt_token_ids, eval_count, loaded, reloaded,
chunks_sent, response_text, error, fault, disconnected, started, first_byte_at, finished),
``requests_to(path)``, ``reset_records()``, ``wait_for(pred, timeout=5.0)`` and
``await wait_for_async(pred, timeout=5.0)`` (TimeoutError lists the records).

Metrics: the wire's ``prompt_eval_count`` is the whole prompt after truncation, cached tokens
included, as every Ollama release but v0.30.0 reports it (``version="0.30.0"``: only the
evaluated ones); ``prompt_eval_duration`` covers only the evaluated tokens.

Emulated: Gin's 404/405/trailing-slash answers; Go JSON (compact, ``\\u003c``, field order) and
Go decode errors; keep_alive parsing and expiry; one slot per model (a queued client that
leaves is a 499); reloads on runner-option changes; tags sharing a blob share a runner; the
prompt-prefix cache and front truncation past num_ctx; Ollama's pull sequence; ``/api/ps``
sizes from the KV-cache formula. Not emulated (501): push, create, blobs, embed.
Run by hand: ``python -m tests.ollama_double --port 11434`` (``--help`` for latency flags);
real models: ``python -m tests.ollama_double --port P --real smollm2:135m --threads 1``.
"""

from .records import RecordedRequest
from .server import OllamaDouble
from .state import DEFAULT_ANSWER, Latency

__all__ = ["DEFAULT_ANSWER", "Latency", "OllamaDouble", "RecordedRequest"]
