"""``POST /api/generate`` and ``POST /api/chat``, checked in Ollama's order (``routes.go``):

decode -> top_logprobs -> model lookup (404) -> unload (empty prompt + keep_alive 0) -> raw
conflicts -> capabilities (insert, thinking) -> options (500) -> schedule (queue, load) ->
load-only reply -> render -> engine (prompt cache, truncation, sampling: ``engines/``) -> the
``done`` line with Ollama's metrics.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .engines import Result, Turn
from .exchange import Exchange, Respond
from .logprobs import Entry, Wanted
from .names import parse_name
from .runners import DEFAULT_KEEP_ALIVE_S
from .schemas import CHAT, GENERATE, RUNNER_OPTIONS, OptionError, effective_options
from .state import Installed
from .templates import family_for_text, render_fim, render_messages


@dataclass
class Job:
    chat: bool
    model: str
    installed: Installed
    body: dict[str, Any]
    options: dict[str, Any]
    keep_alive_s: float
    load_only: bool
    render: Callable[[], str]
    raw: bool = False
    context: list[int] | None = None
    debug_render_only: bool = False
    logprobs: Wanted = field(default_factory=Wanted)


def _metrics(**values: int) -> dict[str, int]:
    """Go's ``omitempty``: zero metrics are left out."""
    return {k: v for k, v in values.items() if v}


def _think_requested(value: Any) -> bool:
    return value is True or value in ("low", "medium", "high", "max")


def _lookup(ex: Exchange, req: dict[str, Any]) -> Installed:
    sent = req["model"]
    ex.update(model=sent)
    if not 0 <= req["top_logprobs"] <= 20:
        raise Respond(ex.error(400, "top_logprobs must be between 0 and 20"))
    installed = ex.state.find(parse_name(sent))
    if installed is None:
        raise Respond(ex.error(404, f"model '{sent}' not found"))
    return installed


def _options(ex: Exchange, req: dict[str, Any], installed: Installed) -> dict[str, Any]:
    if _think_requested(req["think"]):
        raise Respond(ex.error(400, f'"{req["model"]}" does not support thinking'))
    try:
        return effective_options(installed.spec.parameter_map(), req["options"])
    except OptionError as err:
        raise Respond(ex.error(500, str(err))) from None


async def generate(request: web.Request, ex: Exchange) -> web.StreamResponse:
    req = ex.decode(GENERATE)
    installed = _lookup(ex, req)
    ex.streaming = req["stream"] is not False
    keep_alive = req["keep_alive"]
    if req["prompt"] == "" and keep_alive == 0:
        ex.state.scheduler.unload(installed.runner_key)
        return await ex.send_single(_generate_done(ex, req["model"], "unload"))
    if req["raw"] and (req["template"] or req["system"] or req["context"]):
        raise Respond(ex.error(400, "raw mode does not support template, system, or context"))
    if req["suffix"] and not installed.spec.template.supports_insert:
        raise Respond(ex.error(400, f"{installed.name.full} does not support insert"))
    options = _options(ex, req, installed)
    spec = installed.spec
    family = family_for_text(req["template"]) if req["template"] else spec.template

    def render() -> str:
        if req["raw"]:
            return req["prompt"]
        if req["suffix"]:
            return render_fim(family, req["prompt"], req["suffix"])
        system = req["system"] or spec.system
        messages = ([("system", system)] if system else []) + [("user", req["prompt"])]
        return render_messages(family, messages)

    job = Job(
        chat=False,
        model=req["model"],
        installed=installed,
        body=ex.record.body if isinstance(ex.record.body, dict) else {},
        options=options,
        keep_alive_s=DEFAULT_KEEP_ALIVE_S if keep_alive is None else keep_alive,
        load_only=req["prompt"] == "",
        render=render,
        raw=req["raw"],
        context=req["context"],
        debug_render_only=req["_debug_render_only"],
        logprobs=Wanted.from_request(req),
    )
    return await run(ex, job)


async def chat(request: web.Request, ex: Exchange) -> web.StreamResponse:
    req = ex.decode(CHAT)
    if req["model"] == "":
        raise Respond(ex.error(400, "model is required"))
    installed = _lookup(ex, req)
    ex.streaming = req["stream"] is not False
    keep_alive = req["keep_alive"]
    messages = [m for m in req["messages"] or [] if m is not None]
    if not messages and keep_alive == 0:
        ex.state.scheduler.unload(installed.runner_key)
        return await ex.send_single(_chat_done(ex, req["model"], "unload"))
    options = _options(ex, req, installed)
    spec = installed.spec

    def render() -> str:
        turns = [(m["role"].lower(), m["content"]) for m in messages]
        if spec.system and turns[0][0] != "system":
            turns.insert(0, ("system", spec.system))
        return render_messages(spec.template, turns)

    job = Job(
        chat=True,
        model=req["model"],
        installed=installed,
        body=ex.record.body if isinstance(ex.record.body, dict) else {},
        options=options,
        keep_alive_s=DEFAULT_KEEP_ALIVE_S if keep_alive is None else keep_alive,
        load_only=not messages,
        render=render,
        debug_render_only=req["_debug_render_only"],
        logprobs=Wanted.from_request(req),
    )
    return await run(ex, job)


def _generate_done(ex: Exchange, model: str, reason: str) -> dict[str, Any]:
    return {
        "model": model,
        "created_at": ex.now(),
        "response": "",
        "done": True,
        "done_reason": reason,
    }


def _chat_done(ex: Exchange, model: str, reason: str) -> dict[str, Any]:
    return {
        "model": model,
        "created_at": ex.now(),
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": reason,
    }


def _chunk(ex: Exchange, job: Job, text: str) -> dict[str, Any]:
    if job.chat:
        message = {"role": "assistant", "content": text}
        return {"model": job.model, "created_at": ex.now(), "message": message, "done": False}
    return {"model": job.model, "created_at": ex.now(), "response": text, "done": False}


def _reported_prompt_count(ex: Exchange, result: Result) -> int:
    """``prompt_eval_count`` as Ollama reports it: the whole prompt, cached tokens included.

    Ollama's runners count the prompt after truncation, before the cache is consulted
    (v0.12.0 ``runner/ollamarunner/runner.go`` L169 ``numPromptInputs: len(inputs)``, reported
    at L888); on llama-server, v0.30.0 reported only llama-server's ``prompt_n`` and v0.30.1
    restored the full count as ``cache_n + prompt_n`` (``llm/llama_server.go``
    ``promptEvalCount``, ollama/ollama#16428). ``prompt_eval_duration`` covers only the
    tokens actually evaluated, so count/duration is no speed once a prefix is cached."""
    if ex.state.reports_evaluated_only:
        return result.evaluated
    return result.prompt_tokens


async def run(ex: Exchange, job: Job) -> web.StreamResponse:
    """Schedule the model, then answer: a load reply, a rendered prompt, or a generation.

    Faults are for answers: a load-only request (a client's warm-up) never takes one."""
    if not job.load_only:
        await ex.begin()
    spec = job.installed.spec
    num_ctx = max(1, min(job.options["num_ctx"], spec.arch.context_length))
    runner_options = tuple(num_ctx if k == "num_ctx" else job.options[k] for k in RUNNER_OPTIONS)
    start = time.monotonic_ns()
    slot_cm = ex.state.scheduler.slot(
        job.installed.runner_key,
        job.installed.name.short,
        spec,
        runner_options,
        num_ctx,
        job.keep_alive_s,
        exclusive=not job.load_only,
        on_phase=lambda phase: ex.update(phase=phase),
    )
    async with slot_cm as slot:
        ex.update(loaded=slot.loaded, reloaded=slot.reloaded)
        load_ns = max(1, time.monotonic_ns() - start)
        if job.load_only:
            done = _chat_done if job.chat else _generate_done
            return await ex.send_single(done(ex, job.model, "load"))
        engine = ex.state.engine_for(spec)
        rendered = job.render()
        context = engine.context_text(slot.runner, job.context) if job.context else ""
        prompt = context + rendered
        ex.update(rendered_prompt=prompt)
        if job.debug_render_only:
            debug = {"_debug_info": {"rendered_template": prompt, "image_count": 0}}
            return await ex.send_single(_chunk(ex, job, "") | debug)

        all_logprobs: list[Entry] = []

        async def emit(piece: str, logprobs: Sequence[Entry] = ()) -> None:
            if not ex.streaming:
                all_logprobs.extend(logprobs)
            elif logprobs:
                await ex.send_line(_chunk(ex, job, piece) | {"logprobs": list(logprobs)}, piece)
            else:
                await ex.send_line(_chunk(ex, job, piece), piece)

        turn = Turn(
            prompt, num_ctx, job.options, job.body, job.model, ex.update, emit, job.logprobs
        )
        result = await engine.generate(slot.runner, turn)
        ex.update(eval_count=result.eval_count)
        if not ex.streaming:
            ex.update(response_text=result.text)

        final = _chunk(ex, job, "" if ex.streaming else result.text)
        final["done"] = True
        final["done_reason"] = result.done_reason
        if not job.chat and not job.raw:
            ids = engine.context_ids(slot.runner, rendered + result.text)
            final["context"] = (job.context or []) + ids
        if job.chat and all_logprobs:
            final["logprobs"] = all_logprobs  # ChatResponse: before the metrics
        final |= _metrics(
            total_duration=max(1, time.monotonic_ns() - start),
            load_duration=load_ns,
            prompt_eval_count=_reported_prompt_count(ex, result),
            prompt_eval_duration=result.prompt_ns,
            eval_count=result.eval_count,
            eval_duration=result.eval_ns,
        )
        if not job.chat and all_logprobs:
            final["logprobs"] = all_logprobs  # GenerateResponse: its last field
        if not ex.streaming:
            return await ex.send_single(final)
        await ex.send_line(final, final=True)
        assert ex.response is not None
        return ex.response
