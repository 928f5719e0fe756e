"""The editor loop's definitions on hand-made events: when a ghost is sound, what a suggestion
shown is, and which requests are background work (``benchmarks/editor_loop/analysis.py``)."""

from __future__ import annotations

import math

import pytest

from benchmarks.editor_loop import analysis, engines
from benchmarks.editor_loop.corpus import Corpus
from benchmarks.editor_loop.engines import EngineRequest

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
