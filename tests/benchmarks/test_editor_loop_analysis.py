"""The editor loop's definitions on hand-made events: when a ghost is sound, what a suggestion
shown is, which requests are background work, and how much of a prefill the next request
reused by each engine's own numbers (``benchmarks/editor_loop/analysis.py``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks.editor_loop import analysis, engines, kept, report
from benchmarks.editor_loop.corpus import Corpus
from benchmarks.editor_loop.engines import EngineRequest
from benchmarks.editor_loop.proxy import Exchange
from tests.ollama_double.records import RecordedRequest

CORPUS = Corpus(
    head="def f(r):\n", tail="\n\nx = 1\n", target="    return r * 2\n    pass", name="t"
)
ROW = 1  # the cursor's line, 0-based
ANSWER = analysis.Answer(offset=5, text="eturn r * 2", t=100.0)  # asked after "    r"


def ghost(p: int, g: str, t: float = 200.0, *, at: int | None = None) -> dict:
    col = len(CORPUS.target[:p].rsplit("\n", 1)[-1])
    return {"t": t, "p": p, "g": g, "r": ROW, "c": col if at is None else at, "cr": ROW, "cc": col}


def test_a_ghost_answered_for_the_text_or_typed_through_is_sound() -> None:
    assert analysis.sound(ghost(5, "eturn r * 2"), CORPUS.target, [ANSWER])
    assert analysis.sound(ghost(7, "urn r"), CORPUS.target, [ANSWER])  # typed "et"; shorter


def test_a_held_suggestion_minus_the_typed_count_contradicts() -> None:
    other = analysis.Answer(5, "aise", 100.0)  # the model guessed "raise"; the user typed "e"
    assert not analysis.sound(ghost(6, "ise"), CORPUS.target, [other])


def test_a_ghost_drawn_before_its_answer_away_from_the_cursor_or_over_a_wrong_buffer_is_not_sound() -> (
    None
):
    assert not analysis.sound(ghost(5, "eturn", t=50.0), CORPUS.target, [ANSWER])
    assert not analysis.sound(ghost(5, "eturn", at=2), CORPUS.target, [ANSWER])
    assert not analysis.sound({**ghost(5, "eturn"), "p": -1}, CORPUS.target, [ANSWER])


def test_positions_map_the_cursor_and_a_prompt_end_to_offsets() -> None:
    pos = analysis.Positions(CORPUS)
    assert pos.offset(ROW, 5) == 5
    assert pos.offset(ROW + 1, 4) == len("    return r * 2\n    ")
    assert pos.ending("def f(r):\n    ret") == 7
    assert pos.ending("nowhere") is None


def request(prompt: str, arrive: float, **options: object) -> EngineRequest:
    body = {"prompt": f"<|fim_prefix|>{prompt}<|fim_suffix|>\n<|fim_middle|>", "options": options}
    return EngineRequest("/api/generate", body, arrive, None, None, 1, "")


def test_requests_are_foreground_prefill_or_speculation() -> None:
    pos = analysis.Positions(CORPUS)
    typed = [(1000.0, 5)]  # "    r" typed by t = 1 s
    assert analysis.classify(request("def f(r):\n    r", 1.5), pos, typed) == "foreground"
    assert analysis.classify(request("def f(r):\n    ", 1.5), pos, typed) == "foreground"  # healed
    assert (
        analysis.classify(request("def f(r):\n    r", 1.5, num_predict=1), pos, typed) == "prefill"
    )
    ahead = request("def f(r):\n    return r", 1.5)  # as if "eturn r" were accepted
    assert analysis.classify(ahead, pos, typed) == "speculation"
    steer = request("def f(r):\n    r", 1.5, num_predict=1)
    steer.body["top_logprobs"] = 20
    assert analysis.classify(steer, pos, typed) == "foreground"
    steered = request("def f(r):\n    return", 1.5)  # healing steered "r" to "return"
    assert analysis.classify(steered, pos, typed) == "foreground"


def test_the_cursor_line_after_the_middle_token_is_read_as_typed_text() -> None:
    pos = analysis.Positions(CORPUS)
    typed = [(1000.0, 5)]  # "    r" typed by t = 1 s
    tail = {"prompt": "<|fim_prefix|>def f(r):\n<|fim_suffix|>\n<|fim_middle|>    r"}
    assert (
        analysis.classify(
            EngineRequest("/v1/completions", tail, 1.5, None, None, 1, ""), pos, typed
        )
        == "foreground"
    )
    ahead = {"prompt": "<|fim_prefix|>def f(r):\n<|fim_suffix|>\n<|fim_middle|>    return r"}
    assert (
        analysis.classify(
            EngineRequest("/v1/completions", ahead, 1.5, None, None, 1, ""), pos, typed
        )
        == "speculation"
    )


LOG = """\
0.03.766.633 I srv  llama_server: listening on http://127.0.0.1:41905
0.03.986.479 I slot launch_slot_: id  3 | task 0 | processing task, is_child = 0
0.06.991.076 W srv          stop: cancel task, id_task = 0
0.07.100.000 W srv          stop: cancel task, id_task = 1
0.26.586.388 I slot launch_slot_: id  2 | task 2 | processing task, is_child = 0
0.26.586.419 I slot      release: id  3 | task 0 | stop processing: n_tokens = 602, truncated = 0
""".splitlines()


def test_llama_server_s_log_says_when_a_cancelled_batch_really_ended() -> None:
    anchor = engines.log_anchor(LOG)
    at = anchor[1] - anchor[0]  # log time -> monotonic
    ends = engines._slot_ends(LOG, anchor)
    assert sorted(ends) == [0, 1, 2]  # one per completion request, in arrival order
    assert ends[0] == pytest.approx(26.586419 + at)  # released 20 s after its cancel
    assert ends[1] == pytest.approx(7.1 + at)  # cancelled before it ever ran
    assert ends[2] == math.inf  # still running


# Prefill reuse: a run of one-token steps, then the request that should start from their cache.
PREFIX = "<|fim_prefix|>"
STEPS = (PREFIX, PREFIX + "def f(r):\n")  # growing starts of the prompt, cut at line ends
FULL = PREFIX + "def f(r):\n    r<|fim_suffix|>\n<|fim_middle|>"  # "    r" typed at 1 s
EVENTS = [
    {"e": "start", "t": 0.0},
    {"e": "key", "t": 1000.0, "p": 4, "n": 1},
    {"e": "typed", "t": 9000.0, "p": 5},
    {"e": "end", "t": 10000.0},
]


def sse(text: str, prompt_n: int, cache_n: int) -> bytearray:
    """A streamed /v1/completions answer as llama-server sends it: ``timings`` in the last
    event (one-token requests too)."""
    first = {"choices": [{"text": text, "index": 0, "finish_reason": None}]}
    last = {
        "choices": [{"text": "", "index": 0, "finish_reason": "length"}],
        "timings": {"cache_n": cache_n, "prompt_n": prompt_n, "predicted_n": 1},
    }
    events = [json.dumps(first), json.dumps(last), "[DONE]"]
    return bytearray("".join(f"data: {e}\n\n" for e in events).encode())


def served(
    prompt: str,
    arrive: float,
    numbers: tuple[int, int] | None,
    *,
    step: bool = False,
    slot: int | None = None,
) -> EngineRequest:
    """A llama-server request through the proxy: ``numbers`` (prompt_n, cache_n), or None for
    one cancelled before its last event; ``slot``: the ``id_slot`` it names."""
    body: dict = {"prompt": prompt, "max_tokens": 1 if step else 32, "stream": True}
    if slot is not None:
        body["id_slot"] = slot
    data = sse("x", *numbers) if numbers else bytearray(b'data: {"choices": []}\n\n')
    return engines.from_exchange(
        Exchange("/v1/completions", body, arrive, arrive, arrive, 200, data)
    )


def recorded(
    prompt: str, arrive: float, numbers: tuple[int, int] | None, *, step: bool = False
) -> EngineRequest:
    """A double's request: ``numbers`` (prompt tokens, evaluated), or None when it was
    cancelled before evaluation started."""
    body = {"prompt": prompt, "options": {"num_predict": 1 if step else 32}}
    whole, evaluated = numbers or (None, None)
    record = RecordedRequest(
        1, "POST", "/api/generate", body, started=arrive, prompt_tokens=whole,
        prompt_eval_count=evaluated, finished=arrive,
    )  # fmt: skip
    return engines.from_record(record)


def reuse_column(requests: list[EngineRequest]) -> tuple[dict, str, str]:
    metrics = analysis.analyse(CORPUS, EVENTS, requests)
    cells = report.table([(("m", "e", "c", "r"), metrics)], 1).splitlines()[2].split(" | ")
    at = [name for name, _ in report.COLUMNS].index("prefill reuse ≥90 %") + 4
    return metrics, cells[at], cells[at + 1]


def test_llama_server_s_answer_gives_the_whole_prompt_and_its_cached_part() -> None:
    request = served(FULL, 2.0, (3, 90))
    assert (request.evaluated, request.cached, request.prompt_tokens) == (3, 90, 93)
    assert request.answer == "x"
    per_token = b"".join(bytes(sse("a", 3, 90)) for _ in range(3))  # timings_per_token
    said = engines._answer(per_token)
    assert (said.evaluated, said.cached) == (3, 90)  # the prompt's, not summed per event
    assert served(FULL, 2.0, None).prompt_tokens is None  # cancelled: the engine said nothing


def test_a_stream_cancelled_after_its_prompt_progress_still_says_what_it_reused() -> None:
    events = [  # return_progress: from the start of prompt processing, then per batch
        {
            "choices": [{"text": ""}],
            "prompt_progress": {"total": 133, "cache": 130, "processed": 130},
        },
        {
            "choices": [{"text": ""}],
            "prompt_progress": {"total": 133, "cache": 130, "processed": 133},
        },
        {"choices": [{"text": "    return"}]},
    ]  # the client hung up here: no final event, no timings
    said = engines._answer("".join(f"data: {json.dumps(e)}\n\n" for e in events).encode())
    assert said == engines.Said("    return", prompt_tokens=133, cached=130, evaluated=3)


def test_steps_then_a_request_reusing_all_of_them() -> None:
    steps = [served(STEPS[0], 1.5, (1, 0), step=True), served(STEPS[1], 1.6, (40, 0), step=True)]
    metrics, reuse, cost = reuse_column([*steps, served(FULL, 2.0, (3, 40))])
    assert metrics["prefill reuse median %"] == 100
    assert (reuse, cost) == ("1 of 1, median 100 %", "2 (41)")


def test_a_request_reusing_little_of_the_steps_and_a_second_run() -> None:
    requests = [
        recorded(STEPS[1], 1.5, (40, 40), step=True),
        recorded(FULL, 2.0, (43, 39)),  # another slot or prompt start: 4 of 40 cached
        recorded(STEPS[0], 3.0, (1, 1), step=True),
        recorded(STEPS[1], 3.1, (40, 39), step=True),
        recorded(FULL, 4.0, (43, 3)),  # all 40 cached
    ]
    metrics, reuse, cost = reuse_column(requests)
    assert metrics["prefill runs measured"] == 2 and metrics["prefill runs reused >= 90 %"] == 1
    assert (reuse, cost) == ("1 of 2, median 55 %", "3 (80)")


def test_a_run_in_a_spare_slot_is_followed_by_the_next_request_in_that_slot() -> None:
    requests = [
        served(STEPS[0], 1.5, (1, 0), step=True, slot=1),
        served(FULL, 1.7, (3, 90), slot=0),  # typing goes on in the main slot meanwhile
        served(STEPS[1], 3.0, (39, 1), step=True, slot=1),  # the next pause goes on
        served(FULL, 4.0, (3, 40), slot=1),  # promoted: the spare is the main slot now
        served(STEPS[0], 5.0, (1, 0), step=True, slot=0),  # cut off, and nothing follows
    ]
    metrics, reuse, _ = reuse_column(requests)
    assert metrics["prefill runs measured"] == 1 and metrics["prefill runs never followed"] == 1
    assert reuse == "1 of 1, median 100 %, 1 never followed"


def test_a_next_request_cancelled_before_answering_is_not_measured() -> None:
    for make in (served, recorded):
        steps = [make(STEPS[0], 1.5, (1, 1), step=True), make(STEPS[1], 1.6, (40, 39), step=True)]
        metrics, reuse, _ = reuse_column([*steps, make(FULL, 2.0, None)])
        assert metrics["prefill runs measured"] == 0, make
        assert reuse == "–, 1 not measured"


def test_a_cancelled_last_step_leaves_the_last_answered_one_as_the_prefill() -> None:
    steps = [
        served(STEPS[1], 1.5, (40, 0), step=True),
        served(STEPS[1] + "    x\n", 1.6, None, step=True),
    ]
    _, reuse, cost = reuse_column([*steps, served(FULL, 2.0, (5, 38))])
    assert (reuse, cost) == ("1 of 1, median 95 %", "2 (40)")  # 38 of the 40 answered
    _, reuse, _ = reuse_column([*steps, served(FULL, 2.0, (5, 60))])  # its batch ran on
    assert reuse == "1 of 1, median 100 %"  # capped


def test_without_prefills_the_column_says_so() -> None:
    metrics, reuse, cost = reuse_column([served(FULL, 2.0, (43, 0)), recorded(FULL, 3.0, (43, 43))])
    assert metrics["prefill steps"] == 0 and math.isnan(metrics["prefill reuse median %"])
    assert (reuse, cost) == ("–", "0 (0)")


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("qwen2.5-coder_0.5b-llama-server-llama.vim-250-1.json",
         ("qwen2.5-coder:0.5b", "llama-server", "llama.vim", "real time, Tab after 250 ms")),
        ("qwen2.5-coder_1.5b-double-ours-unhurried-2.json",
         ("qwen2.5-coder:1.5b", "double", "ours", "unhurried")),
    ],
)  # fmt: skip
def test_a_kept_session_s_label_from_its_file_name(name: str, label: tuple[str, ...]) -> None:
    assert kept._label(Path(name)) == label
