"""A protocol-faithful Ollama test double: real HTTP, Ollama's bytes, no model weights.

    with OllamaDouble() as double:            # or the ``ollama_double`` pytest fixture
        double.url, double.host                # "http://127.0.0.1:PORT", "127.0.0.1:PORT"

Models: ``OllamaDouble(installed=[...])`` (default: codellama:7b-code,
tinyllama:1.1b-chat-v1-q4_0, qwen2.5-coder:1.5b-base; others pullable from the library in
``catalogue.py``), ``install(name)``, ``uninstall(name)``, ``installed``, ``loaded()``.

Answers: ``script(text, *, model=None, when=None, times=None)`` (newest first; ``when(body)``;
``times`` consumed), ``set_responder(fn(body) -> str | None)``, ``clear_scripts()``; default
text "Hello from the Ollama double.". One streamed chunk per token of
``re.findall(r"\\s+|\\w+|[^\\w\\s]", text)``; ``options.stop``/``num_predict`` cut it as Ollama does.

Time: ``latency`` (a ``Latency``: load_s, first_token_s, per_token_s, prompt_token_s,
pull_tick_s=0.06), settable any time; ``advance_clock(seconds)`` expires keep-alives.

Faults: ``inject_fault(kind, *, path="/api/generate", after_chunks=0, message=None, status=500,
times=1)``, kinds http_error, error_line, malformed_line, truncate, abort, hang (after_chunks=0:
before headers); ``clear_faults()``. They hit valid requests only, oldest fault first.

Records: ``requests`` (copies of ``RecordedRequest``: method, path, body, status, phase, model,
rendered_prompt, prompt_tokens, truncated, prompt_eval_count, eval_count, loaded, reloaded,
chunks_sent, response_text, error, fault, disconnected, started, first_byte_at, finished),
``requests_to(path)``, ``reset_records()``, ``wait_for(pred, timeout=5.0)`` and
``await wait_for_async(pred, timeout=5.0)`` (TimeoutError lists the records).

Emulated: Gin's 404/405 texts; Go JSON (compact, ``\\u003c``, field order); Go decode errors;
keep_alive parsing and expiry; one slot per model (queued clients that leave get 499); reloads
on runner-option changes; the prompt-prefix cache and front truncation past num_ctx; Ollama's
pull sequence; ``/api/ps`` sizes from the KV-cache formula. Run by hand:
``python -m tests.ollama_double --port 11434``.
"""

from .records import RecordedRequest
from .server import OllamaDouble
from .state import DEFAULT_ANSWER, Latency

__all__ = ["DEFAULT_ANSWER", "Latency", "OllamaDouble", "RecordedRequest"]
