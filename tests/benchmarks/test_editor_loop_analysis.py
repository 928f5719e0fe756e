"""The editor loop's definitions on hand-made events: when a ghost is sound, what a suggestion
shown is, and which requests are background work (``benchmarks/editor_loop/analysis.py``)."""

from __future__ import annotations

from benchmarks.editor_loop import analysis
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
