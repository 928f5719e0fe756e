"""The llama.cpp engine behind the double's Ollama API, driven over HTTP like a client would.

Each test keeps its prompts short: the tier runs on one engine thread of a 2-core machine.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.ollama_double import OllamaDouble
from tests.ollama_double.engines.llama import num_predict_limit
from tests.ollama_double.generation import StopFilter
from tests.ollama_double.gguf_meta import read_meta

from . import models
from .conftest import llama_engine, need

FINISHED = {
    "smollm2:135m": "<|im_start|>user\nSay OK.<|im_end|>\n<|im_start|>assistant\nOK.",
    "gemma3:270m": 'def main():\n    print("hi")\n\n\nif __name__ == "__main__":\n    main()\n',
}
"""Prompts each model (greedy) ends with an end-of-generation token: a finished chat turn for
the instruct model, a finished Python file for the base model."""
SPECIAL_TEXT = ("<|endoftext|>", "<|im_end|>", "<eos>", "<end_of_turn>", "<EOT>", "</s>")


@pytest.fixture(scope="module")
def http(real_double: OllamaDouble) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=real_double.url, timeout=60) as client:
        yield client


def generate(http: httpx.Client, double: OllamaDouble, **body: Any) -> tuple[dict, list[dict]]:
    """Stream one generate request; the ``done`` line and every line."""
    body.setdefault("raw", True)
    lines: list[dict] = []
    with http.stream("POST", "/api/generate", json=body) as response:
        assert response.status_code == 200, response.read()
        lines = [json.loads(line) for line in response.iter_lines() if line]
    return lines[-1], lines


def last_record(double: OllamaDouble, path: str = "/api/generate"):
    return double.requests_to(path)[-1]


def loaded_llm(double: OllamaDouble) -> Any:
    (runner,) = double.loaded()
    return runner.engine_state.llm


# --- pure rules, no model -----------------------------------------------------------------


def test_num_predict_as_ollama_passes_it() -> None:
    assert num_predict_limit(0, 4096) is None  # omitted from llama-server's request: unlimited
    assert num_predict_limit(1, 4096) == 1
    assert num_predict_limit(-1, 4096) == 40960  # boundedNumPredict: 10 x num_ctx
    assert num_predict_limit(10**9, 2048) == 20480


def test_stop_filter_holds_back_a_possible_stop_and_cuts_at_a_whole_one() -> None:
    stops = StopFilter(["<EOT>"])
    assert stops.feed("x = 1") == "x = 1"
    assert stops.feed(" <E") == ""
    assert stops.feed("O") == ""
    assert stops.feed("T> y") == " " and stops.stopped
    other = StopFilter(["<EOT>"])
    assert other.feed("a <E") == "" and other.feed("x") == "a <Ex"


def test_a_missing_model_skips_the_tier_or_fails_it_when_required(monkeypatch) -> None:
    monkeypatch.setattr(models, "weights_path", lambda name: None)
    monkeypatch.delenv("OLLAMA_LSP_REQUIRE_REAL", raising=False)
    with pytest.raises(pytest.skip.Exception):
        need("smollm2:135m")
    monkeypatch.setenv("OLLAMA_LSP_REQUIRE_REAL", "1")
    with pytest.raises(pytest.fail.Exception, match="OLLAMA_LSP_REQUIRE_REAL"):
        need("smollm2:135m")


# --- both real models ---------------------------------------------------------------------


def test_streams_real_text(real_model: str, real_double: OllamaDouble, http) -> None:
    done, lines = generate(
        http,
        real_double,
        model=real_model,
        prompt="def fibonacci(n):\n",
        options={"num_predict": 12, "temperature": 0},
    )
    text = "".join(line["response"] for line in lines)
    assert len(lines) > 3 and text.strip(), lines
    assert done["done_reason"] == "length" and done["eval_count"] == 12
    rec = last_record(real_double)
    assert rec.response_text == text and rec.eval_count == 12
    assert rec.prompt_token_ids is not None and len(rec.prompt_token_ids) == rec.prompt_tokens
    assert done["prompt_eval_count"] == rec.prompt_tokens


def test_extending_a_prompt_evaluates_only_the_new_tokens(
    real_model: str, real_double: OllamaDouble, http
) -> None:
    prompt = "".join(f"value_{i} = {i} * {i}\n" for i in range(12))
    options = {"num_predict": 1, "temperature": 0}
    cold, _ = generate(http, real_double, model=real_model, prompt=prompt, options=options)
    cold_rec = last_record(real_double)
    warm, _ = generate(
        http, real_double, model=real_model, prompt=prompt + "total", options=options
    )
    warm_rec = last_record(real_double)
    assert cold_rec.prompt_tokens > 60  # all evaluated but perhaps a BOS a previous prompt had
    assert cold_rec.prompt_eval_count >= cold_rec.prompt_tokens - 1
    assert 1 <= warm_rec.prompt_eval_count <= 4, warm_rec.prompt_eval_count
    assert warm_rec.prompt_token_ids[: cold_rec.prompt_tokens] == cold_rec.prompt_token_ids
    # Ollama counts the whole prompt; only the duration shows that the prefix was cached
    assert warm["prompt_eval_count"] == warm_rec.prompt_tokens > cold["prompt_eval_count"]
    assert warm["prompt_eval_duration"] * 4 < cold["prompt_eval_duration"]


def test_a_num_ctx_change_reloads_and_loses_the_cache(
    real_model: str, real_double: OllamaDouble, http
) -> None:
    prompt = "class Stack:\n    def push(self, item):\n"
    options = {"num_predict": 1, "temperature": 0, "num_ctx": 2048}
    generate(http, real_double, model=real_model, prompt=prompt, options=options)
    generate(http, real_double, model=real_model, prompt=prompt, options=options)
    assert last_record(real_double).prompt_eval_count == 1
    generate(
        http, real_double, model=real_model, prompt=prompt, options={**options, "num_ctx": 1024}
    )
    rec = last_record(real_double)
    assert rec.reloaded and rec.prompt_eval_count == rec.prompt_tokens
    assert loaded_llm(real_double).n_ctx() == 1024
    assert http.get("/api/ps").json()["models"][0]["context_length"] == 1024


def test_end_of_generation_stops_without_special_text(
    real_model: str, real_double: OllamaDouble, http
) -> None:
    done, lines = generate(
        http,
        real_double,
        model=real_model,
        prompt=FINISHED[real_model],
        options={"num_predict": 24, "temperature": 0},
    )
    text = "".join(line["response"] for line in lines)
    assert done["done_reason"] == "stop" and done["eval_count"] < 24, (done, text)
    assert not any(special in text for special in SPECIAL_TEXT), text


def test_stop_option_and_one_token_generation(
    real_model: str, real_double: OllamaDouble, http
) -> None:
    prompt = "numbers = [\n    1,\n    2,\n    3,\n"
    done, lines = generate(
        http,
        real_double,
        model=real_model,
        prompt=prompt,
        options={"num_predict": 30, "temperature": 0, "stop": ["\n"]},
    )
    text = "".join(line["response"] for line in lines)
    assert done["done_reason"] == "stop" and "\n" not in text and done["eval_count"] < 30
    done, lines = generate(
        http,
        real_double,
        model=real_model,
        prompt=prompt,
        options={"num_predict": 1, "temperature": 0},
    )
    assert done["done_reason"] == "length" and done["eval_count"] == 1 and len(lines) <= 2


def test_long_prompts_lose_their_start_but_keep_num_keep(
    real_model: str, real_double: OllamaDouble, http
) -> None:
    prompt = "".join(f"line {i}\n" for i in range(60))
    options = {"num_predict": 1, "temperature": 0, "num_ctx": 64, "num_keep": 5}
    generate(http, real_double, model=real_model, prompt=prompt, options=options)
    rec = last_record(real_double)
    full = loaded_llm(real_double).tokenize(
        prompt.encode(), add_bos=real_double.loaded()[0].engine_state.add_bos, special=True
    )
    assert rec.truncated and rec.prompt_tokens == 64 and len(full) > 64
    assert rec.prompt_token_ids == full[:5] + full[-59:]


def test_a_client_that_leaves_mid_generation_frees_the_engine(
    real_model: str, real_double: OllamaDouble, http
) -> None:
    engine = real_double.engine
    real_double.reset_records()
    body = {
        "model": real_model,
        "prompt": "Once upon a time",
        "raw": True,
        "options": {"num_predict": 400, "temperature": 1.0},
    }
    with http.stream("POST", "/api/generate", json=body) as response:
        for n, _ in enumerate(response.iter_lines()):
            if n == 3:
                break
    rec = real_double.wait_for(lambda r: r.disconnected and r.done, timeout=20)
    assert not engine.busy  # the request ended only once its worker had stopped
    generated = loaded_llm(real_double).n_tokens - rec.prompt_tokens
    assert generated <= rec.chunks_sent + 8, (generated, rec.chunks_sent)
    done, _ = generate(http, real_double, model=real_model, prompt="x", options={"num_predict": 1})
    assert done["done_reason"] in ("length", "stop")


def test_a_client_that_leaves_during_prompt_evaluation_frees_the_engine(
    real_model: str, real_double: OllamaDouble
) -> None:
    engine = real_double.engine
    real_double.reset_records()
    prompt = "".join(f"item_{i} = compute({i}, scale={i * 3})\n" for i in range(20))
    options = {"num_predict": 1, "num_batch": 64}  # Ollama's default batch is 512 tokens
    body = json.dumps(
        {"model": real_model, "prompt": prompt, "raw": True, "options": options}
    ).encode()
    with socket.create_connection(("127.0.0.1", real_double.port)) as sock:
        sock.sendall(
            b"POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        real_double.wait_for(lambda r: r.phase == "evaluating", timeout=20)
    rec = real_double.wait_for(lambda r: r.disconnected and r.done, timeout=20)
    assert not engine.busy
    evaluated = loaded_llm(real_double).n_tokens
    assert evaluated < rec.prompt_tokens, (evaluated, rec.prompt_tokens)  # stopped mid-prompt
    assert evaluated % 64 == 0  # between two batches of num_batch tokens


def test_show_reports_the_gguf(real_model: str, real_double: OllamaDouble, http) -> None:
    shown = http.post("/api/show", json={"model": real_model}).json()
    meta = read_meta(models.weights_path(real_model))
    arch = meta.scalars["general.architecture"]
    info = shown["model_info"]
    assert info["general.architecture"] == arch == ("gemma3" if "gemma" in real_model else "llama")
    assert info[f"{arch}.context_length"] == meta.scalars[f"{arch}.context_length"]
    assert info["general.parameter_count"] == meta.parameter_count
    assert info["tokenizer.ggml.tokens"] == []
    llm_meta = loaded_or_load(real_double, http, real_model).metadata  # llama.cpp's own reader
    assert str(info[f"{arch}.context_length"]) == llm_meta[f"{arch}.context_length"]
    details = shown["details"]
    assert details["format"] == "gguf" and details["family"] == arch
    expected = {"smollm2:135m": ("134.52M", "Q4_1"), "gemma3:270m": ("268.10M", "Q4_K_M")}
    assert (details["parameter_size"], details["quantization_level"]) == expected[real_model]
    assert shown["capabilities"] == ["completion"] and ".Suffix" not in shown["template"]
    turn = "<start_of_turn>" if arch == "gemma3" else "<|im_start|>"
    assert turn in shown["template"]


def loaded_or_load(double: OllamaDouble, http: httpx.Client, model: str) -> Any:
    http.post("/api/generate", json={"model": model})  # an empty prompt loads the model
    return loaded_llm(double)


def test_chat_template_renders_the_turns(real_model: str, real_double: OllamaDouble, http) -> None:
    reply = http.post(
        "/api/chat",
        json={
            "model": real_model,
            "messages": [{"role": "user", "content": "Hi"}],
            "stream": False,
            "options": {"num_predict": 4},
        },
    ).json()
    assert reply["done"] and reply["message"]["role"] == "assistant"
    rec = last_record(real_double, "/api/chat")
    llm = loaded_llm(real_double)
    turn = "<start_of_turn>" if "gemma" in real_model else "<|im_start|>"
    (turn_id,) = llm.tokenize(turn.encode(), add_bos=False, special=True)
    assert rec.rendered_prompt.startswith(turn) and turn_id in rec.prompt_token_ids


# --- the tiny FIM vocabulary --------------------------------------------------------------


@pytest.fixture(scope="module")
def fim_double() -> Iterator[OllamaDouble]:
    need(models.TINY_FIM)
    with OllamaDouble(installed=[models.TINY_FIM], engine=llama_engine()) as double:
        yield double


def test_codellama_raw_prompts_become_control_tokens(fim_double: OllamaDouble) -> None:
    import llama_cpp

    with httpx.Client(base_url=fim_double.url, timeout=30) as http:
        shown = http.post("/api/show", json={"model": models.TINY_FIM}).json()
        assert (
            "insert" in shown["capabilities"] and "<PRE> {{ .Prompt }} <SUF>" in shown["template"]
        )

        def ids_of(prompt: str, **extra: Any) -> list[int]:
            body = {"model": models.TINY_FIM, "prompt": prompt, "stream": False, **extra}
            reply = http.post("/api/generate", json=body | {"options": {"num_predict": 1}})
            assert reply.status_code == 200, reply.text
            return last_record(fim_double).prompt_token_ids

        raw = ids_of("<PRE> a <SUF>b <MID>", raw=True)
        llm = loaded_llm(fim_double)
        vocab = llm._model.vocab
        special = {t: llm.tokenize(t.encode(), add_bos=False, special=True) for t in models_fim()}
        for text, ids in special.items():
            assert len(ids) == 1 and llama_cpp.llama_vocab_is_control(vocab, ids[0]), text
            assert raw.count(ids[0]) == 1, (text, raw)
        assert raw[0] == llm.token_bos()  # add_bos_token is true in this vocabulary
        templated = ids_of("a", suffix="b")  # Ollama's template renders the same tokens
        assert templated == raw
        lookalike = ids_of("<\u200bPRE> a <SUF>b <MID>", raw=True)
        assert special["<PRE>"][0] not in lookalike and special["<SUF>"][0] in lookalike


def models_fim() -> tuple[str, ...]:
    from .tiny_fim import FIM_TOKENS

    return FIM_TOKENS[:3]
