"""The llama.cpp engine: real weights behind the double's Ollama API (``llama-cpp-python``).

It behaves as Ollama's runner does (Ollama >= 0.12; since v0.30 llama-server with
``cache_prompt`` and one slot):

* the prompt is tokenized with ``special=True`` (Ollama parses special tokens, also in
  ``raw`` prompts), with BOS when the vocabulary's ``tokenizer.ggml.add_bos_token`` says so;
* exact-prefix reuse of the previous prompt's KV cache: only the tokens after the common
  prefix are evaluated, at least the last one (llama-server re-evaluates it for its logits);
  a reload (new ``num_ctx``) is a new ``Llama``, so the cache is lost;
* prompt evaluation in batches of the runner's ``num_batch`` tokens (Ollama starts
  llama-server with ``-b``/``-ub`` ``num_batch``, default 512: ``llm/llama_server.go``
  ``appendBatchArgs`` L590-592) and one token per step afterwards, with a check for a closed
  client between batches and between tokens, as llama-server checks for cancelled tasks
  between its batches: a disconnect frees the engine within one batch (512 tokens: seconds on
  a CPU) or one token; the slot is held until then, so the next request never overlaps;
* generation ends at the vocabulary's end-of-generation tokens (not sent as text), at
  ``options.stop`` and the Modelfile's stops (``generation.StopFilter``, shared with the
  scripted engine), at ``num_predict`` and at the end of the context;
* asked for ``logprobs``, each sampled token's entry is the log-softmax of the raw logits with
  the ``top_logprobs`` best (``llama_logprobs``), travelling with the token's text
  (``logprobs.Pending``); without it no pass over the vocabulary is made.

``num_predict`` as Ollama passes it on: -1 (the default) is bounded to 10 x ``num_ctx``
(``llm/llama_server.go`` ``boundedNumPredict`` L106-117; v0.12.0 ``llm/server.go`` L1429);
0 is *unlimited*: the llama-server request field is ``n_predict,omitempty``
(``llm/llama_server.go`` L1398), so 0 is not sent and llama-server's default -1 applies
(v0.12.0's runner checks ``numPredict > 0``, ``runner/ollamarunner/runner.go`` L483); 1 samples
exactly one token, then ends with ``length`` (``stop_type`` "limit" -> ``DoneReasonLength``,
``llm/llama_server.go`` L1715) unless that token is an end-of-generation token (``stop``). So
a client that wants the prompt evaluated without a long answer sends ``num_predict: 1``.

Deviations, on purpose: no ``seed`` (or -1) samples with a fixed seed so tests repeat (Ollama
picks a random one); Gemma 3's sliding-window cache is allocated full size (llama-cpp-python's
default), so prefix reuse after an edit works where llama-server would need a checkpoint.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..catalogue import ModelSpec
from ..generation import StopFilter
from ..logprobs import Pending
from ..runners import Runner
from ..schemas import RUNNER_OPTIONS
from ..tokens import common_prefix, truncate
from . import Result, Turn
from .llama_logprobs import logprob_of_sample, token_piece

DEFAULT_SEED = 0
"""Used when a request sends no seed (Ollama would pick a random one)."""
SAMPLING_DEFAULTS: dict[str, Any] = {
    "temperature": 0.8,
    "top_k": 40,
    "top_p": 0.9,
    "min_p": 0.0,
    "typical_p": 1.0,
    "repeat_penalty": 1.1,
    "presence_penalty": 0.0,
    "frequency_penalty": 0.0,
}
"""Ollama v0.12.0 ``api.DefaultOptions`` for the sampling keys it passes to the runner
(``repeat_penalty`` became 1.0 in v0.32.10)."""
REPEAT_LAST_N = 64
"""Ollama's default ``repeat_last_n``, and llama-cpp-python's fixed penalty window."""


def num_predict_limit(num_predict: int, num_ctx: int) -> int | None:
    """How many tokens may be sampled (``None``: until another stop), as Ollama passes it."""
    if num_predict == 0:
        return None
    if num_predict < 0 or num_predict > 10 * num_ctx:
        return 10 * num_ctx
    return num_predict


@dataclass
class LoadedModel:
    """A runner's llama.cpp model and what its vocabulary says."""

    llm: Any
    """A ``llama_cpp.Llama``; its ``input_ids[:n_tokens]`` are the cached tokens."""
    add_bos: bool
    eog: frozenset[int]
    batch: int


class _Cancelled(Exception):
    """The client left: the worker stopped between two batches or tokens."""


class LlamaEngine:
    """Run the catalogue's real models with llama.cpp; one model per runner, one slot each."""

    def __init__(
        self,
        *,
        threads: int = 1,
        batch: int | None = None,
        weights: Callable[[str], Path | None] | None = None,
    ) -> None:
        """``threads`` unless a request sets ``num_thread``; ``batch`` (default: the request's
        ``num_batch``, as Ollama) fixes the batch size instead; ``weights(name)`` finds a
        model's GGUF (default ``tests.real.models.weights_path``)."""
        if weights is None:
            from tests.real.models import weights_path as weights
        self.threads = threads
        self.batch = batch
        self._weights = weights
        self._workers = 0
        self._idle = threading.Condition()

    # --- state tests can observe ----------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A worker thread is evaluating or sampling right now."""
        with self._idle:
            return self._workers > 0

    def wait_idle(self, timeout: float) -> bool:
        """Block until no worker runs; False if one still does after ``timeout`` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._workers == 0, timeout)

    # --- Engine -----------------------------------------------------------------------------

    def serves(self, spec: ModelSpec) -> bool:
        return spec.weights is not None and self._weights(spec.weights) is not None

    async def load(self, runner: Runner) -> None:
        path = self._weights(runner.spec.weights or "")
        if path is None:
            raise RuntimeError(f"no weights installed for {runner.spec.name}")
        options = dict(zip(RUNNER_OPTIONS, runner.runner_options, strict=True))
        batch = self.batch or max(1, options["num_batch"])
        threads = options["num_thread"] if options["num_thread"] > 0 else self.threads
        runner.engine_state = await asyncio.to_thread(
            self._load, path, runner.num_ctx, batch, threads
        )

    def _load(self, path: Path, num_ctx: int, batch: int, threads: int) -> LoadedModel:
        import llama_cpp

        llm = llama_cpp.Llama(
            str(path),
            n_ctx=num_ctx,
            n_batch=batch,
            n_ubatch=batch,
            n_threads=threads,
            n_threads_batch=threads,
            seed=DEFAULT_SEED,
            verbose=False,
        )
        vocab = llm._model.vocab
        n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
        eog = frozenset(i for i in range(n_vocab) if llama_cpp.llama_vocab_is_eog(vocab, i))
        return LoadedModel(llm, bool(llama_cpp.llama_vocab_get_add_bos(vocab)), eog, batch)

    def release(self, runner: Runner) -> None:
        loaded: LoadedModel | None = runner.engine_state
        runner.engine_state = None
        if loaded is not None:
            loaded.llm.close()

    def context_ids(self, runner: Runner, text: str) -> list[int]:
        return self._model(runner).llm.tokenize(text.encode(), add_bos=False, special=True)

    def context_text(self, runner: Runner, ids: list[int]) -> str:
        llm = self._model(runner).llm
        return llm.detokenize(ids, special=True).decode("utf-8", "replace")

    def _model(self, runner: Runner) -> LoadedModel:
        if runner.engine_state is None:
            raise RuntimeError(f"{runner.name} is not loaded")
        return runner.engine_state

    async def generate(self, runner: Runner, turn: Turn) -> Result:
        model = self._model(runner)
        llm = model.llm
        num_ctx = runner.num_ctx  # llama.cpp may round its own n_ctx up
        all_tokens = llm.tokenize(turn.prompt.encode(), add_bos=model.add_bos, special=True)
        tokens = truncate(all_tokens, num_ctx, turn.options["num_keep"])
        cached = llm.input_ids[: llm.n_tokens].tolist()
        reuse = min(common_prefix(cached, tokens), len(tokens) - 1)
        result = Result(prompt_tokens=len(tokens), evaluated=len(tokens) - reuse)
        turn.record(
            phase="evaluating",
            prompt_tokens=len(tokens),
            truncated=len(tokens) < len(all_tokens),
            prompt_eval_count=result.evaluated,
            prompt_token_ids=list(tokens),
        )
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        cancel = threading.Event()

        def post(kind: str, value: Any = None) -> None:
            with contextlib.suppress(RuntimeError):  # the double stopped: nobody listens
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))

        def work() -> None:
            try:
                self._run(model, tokens, reuse, turn, result, cancel, post)
                post("done")
            except BaseException as err:  # reported to the request, which re-raises it
                post("error", err)
            finally:
                with self._idle:
                    self._workers -= 1
                    self._idle.notify_all()

        with self._idle:
            self._workers += 1  # before the thread starts: busy from now on
        worker = loop.run_in_executor(None, work)
        sent: list[str] = []
        try:
            while True:
                kind, value = await queue.get()
                if kind == "evaluated":
                    turn.record(phase="streaming")
                elif kind == "piece":
                    piece, logprobs = value
                    sent.append(piece)
                    await turn.emit(piece, logprobs)
                elif kind == "error":
                    raise value
                else:
                    break
        except BaseException:
            cancel.set()
            await _finish(worker)
            raise
        await worker
        result.text = "".join(sent)
        return result

    def _run(
        self,
        model: LoadedModel,
        tokens: list[int],
        reuse: int,
        turn: Turn,
        result: Result,
        cancel: threading.Event,
        post: Callable[..., None],
    ) -> None:
        """The worker thread: evaluate the uncached tail in batches, then sample."""
        llm = model.llm
        start = time.perf_counter_ns()
        if reuse < llm.n_tokens and not llm._ctx.kv_cache_seq_rm(-1, reuse, -1):
            reuse = 0
            llm._ctx.kv_cache_clear()
            result.evaluated = len(tokens)
        llm.n_tokens = min(reuse, llm.n_tokens)
        for at in range(llm.n_tokens, len(tokens), model.batch):
            if cancel.is_set():
                raise _Cancelled
            llm.eval(tokens[at : at + model.batch])
        result.prompt_ns = max(1, time.perf_counter_ns() - start)
        post("evaluated")
        start = time.perf_counter_ns()
        try:
            result.done_reason = self._sample(model, tokens, turn, result, cancel, post)
        finally:
            llm._sampler = None
            result.eval_ns = max(1, time.perf_counter_ns() - start)

    def _sample(
        self,
        model: LoadedModel,
        prompt: list[int],
        turn: Turn,
        result: Result,
        cancel: threading.Event,
        post: Callable[..., None],
    ) -> str:
        llm, options, num_ctx = model.llm, turn.options, turn.num_ctx
        params = {k: options.get(k, v) for k, v in SAMPLING_DEFAULTS.items()}
        seed = options.get("seed", -1)
        llm.set_seed(DEFAULT_SEED if seed is None or seed < 0 else seed)
        llm._sampler = llm._init_sampler(
            top_k=params["top_k"],
            top_p=params["top_p"],
            min_p=params["min_p"],
            typical_p=params["typical_p"],
            temp=params["temperature"],
            repeat_penalty=params["repeat_penalty"],
            frequency_penalty=params["frequency_penalty"],
            presence_penalty=params["presence_penalty"],
        )
        # The repeat penalty sees the prompt, as in Ollama's runner (v0.12.0
        # runner/llamarunner/runner.go L137-141 accepts every prompt token); its window is
        # the last 64 tokens (repeat_last_n), so those are enough.
        for token in prompt[-REPEAT_LAST_N:]:
            llm._sampler.accept(token)
        limit = num_predict_limit(options["num_predict"], num_ctx)
        stops = StopFilter(list(options.get("stop") or []))
        text = codecs.getincrementaldecoder("utf-8")("replace")
        wanted, pending = turn.logprobs, Pending()
        while True:
            if cancel.is_set():
                raise _Cancelled
            token = llm.sample()
            result.eval_count += 1
            if token in model.eog:
                reason = "stop"
                break
            # token_piece, not LlamaModel.token_to_piece (0.3.36 returns its whole 32-byte
            # buffer, NULs included) nor .detokenize (drops longer pieces: see token_piece).
            decoded = text.decode(token_piece(llm._model.vocab, token))
            if wanted.logprobs:
                pending.push(decoded, logprob_of_sample(llm, token, wanted.top))
            piece = stops.feed(decoded)
            if piece:
                post("piece", (piece, pending.release(piece, stopped=stops.stopped)))
            if stops.stopped:
                return "stop"
            if limit is not None and result.eval_count >= limit:
                reason = "length"
                break
            if llm.n_tokens >= num_ctx:
                reason = "length"
                break
            llm.eval([token])
        rest = stops.feed(text.decode(b"", final=True))
        rest += "" if stops.stopped else stops.flush()
        if rest:
            post("piece", (rest, pending.release(rest, stopped=stops.stopped, final=True)))
        return "stop" if stops.stopped else reason


async def _finish(worker: asyncio.Future[None]) -> None:
    """Wait for the worker to notice the cancel flag (one batch or token), even while our own
    task is being cancelled: the model must not be touched by two threads, and the slot must
    stay held until the engine is really free."""
    while not worker.done():
        try:
            await asyncio.shield(worker)
        except asyncio.CancelledError:
            continue
        except BaseException:
            break
