"""The completion cache: what the key covers, its bounds, and typing-through a suggestion."""

from __future__ import annotations

import pytest

from ollama_lsp.completion.cache import (
    MAX_SUGGESTION_CHARS,
    SHOWN_DOCUMENTS,
    SHOWN_PER_DOCUMENT,
    CompletionCache,
)
from ollama_lsp.completion.templates import Prompt
from ollama_lsp.settings import DEFAULT_MODEL

URI = "file:///project/calc.py"
PREFIX = "def add(a, b):\n    "
SUFFIX = "\n\nprint(add(1, 2))\n"
SUGGESTION = "return a + b"
PROMPT = Prompt(f"<PRE> {PREFIX} <SUF>{SUFFIX} <MID>", None, True, ("<EOT>",))
OPTIONS = {"temperature": 0.1, "num_predict": 128, "multiline": True}
BASE = (DEFAULT_MODEL, "codellama", OPTIONS, PROMPT)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_cache(max_entries: int = 8, ttl_seconds: float = 60.0) -> tuple[CompletionCache, Clock]:
    clock = Clock()
    return CompletionCache(max_entries=max_entries, ttl_seconds=ttl_seconds, timer=clock), clock


# -- the key ----------------------------------------------------------------------------------


def test_same_inputs_same_key() -> None:
    assert CompletionCache.key(*BASE) == CompletionCache.key(*BASE)


def test_option_order_does_not_matter() -> None:
    reordered = dict(reversed(OPTIONS.items()))
    assert CompletionCache.key(*BASE) == CompletionCache.key(*BASE[:2], reordered, PROMPT)


@pytest.mark.parametrize(
    "changed",
    [
        ("codellama:13b-code", "codellama", OPTIONS, PROMPT),
        (DEFAULT_MODEL, "starcoder2", OPTIONS, PROMPT),
        (DEFAULT_MODEL, "codellama", {**OPTIONS, "temperature": 0.2}, PROMPT),
        (DEFAULT_MODEL, "codellama", {**OPTIONS, "multiline": False}, PROMPT),
        (DEFAULT_MODEL, "codellama", {**OPTIONS, "seed": 1}, PROMPT),
        (*BASE[:3], Prompt(PROMPT.prompt + " ", None, True, PROMPT.stop)),
        (*BASE[:3], Prompt(PROMPT.prompt.replace("def", "Def"), None, True, PROMPT.stop)),
        (*BASE[:3], Prompt(PROMPT.prompt, None, False, PROMPT.stop)),
        (*BASE[:3], Prompt(PREFIX, SUFFIX, False, ())),
        (*BASE[:3], Prompt(PREFIX, SUFFIX + "x", False, ())),
    ],
    ids=[
        "model",
        "template",
        "temperature",
        "multiline",
        "extra-option",
        "prefix-window",
        "window-content",
        "raw-flag",
        "suffix-field",
        "suffix-window",
    ],
)
def test_any_change_to_what_decides_the_answer_changes_the_key(changed: tuple) -> None:
    assert CompletionCache.key(*changed) != CompletionCache.key(*BASE)


def test_text_moving_between_prompt_and_suffix_changes_the_key() -> None:
    one = Prompt("ab", "c", False, ())
    two = Prompt("a", "bc", False, ())
    assert CompletionCache.key(*BASE[:3], one) != CompletionCache.key(*BASE[:3], two)


def test_lone_surrogates_in_the_text_do_not_break_the_key() -> None:
    prompt = Prompt("x = '\ud800'", None, True, ())
    assert CompletionCache.key(*BASE[:3], prompt)


# -- entries, counters, bounds ------------------------------------------------------------


def test_a_stored_answer_is_a_hit_and_an_unknown_key_a_miss() -> None:
    cache, _ = make_cache()
    cache.put("k", SUGGESTION, uri=URI)
    assert cache.get("k") == SUGGESTION
    assert cache.get("other") is None
    assert (cache.hits, cache.misses) == (1, 1)


def test_an_empty_answer_is_cached_too() -> None:
    """The model said nothing useful here: asking again would say the same."""
    cache, _ = make_cache()
    cache.put("k", "", uri=URI)
    assert cache.get("k") == ""
    assert cache.hits == 1


def test_at_most_max_entries_least_recently_used_out_first() -> None:
    cache, _ = make_cache(max_entries=2)
    cache.put("a", "1", uri=URI)
    cache.put("b", "2", uri=URI)
    assert cache.get("a") == "1"
    cache.put("c", "3", uri=URI)
    assert cache.entries == 2
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("1", None, "3")


def test_entries_expire_after_ttl() -> None:
    cache, clock = make_cache(ttl_seconds=60)
    cache.put("k", SUGGESTION, uri=URI)
    clock.now += 59.9
    assert cache.get("k") == SUGGESTION
    clock.now += 0.2
    assert cache.get("k") is None
    assert cache.entries == 0


def test_max_entries_zero_stores_nothing() -> None:
    cache, _ = make_cache(max_entries=0)
    cache.put("k", SUGGESTION, uri=URI)
    assert cache.get("k") is None
    assert cache.entries == 0


def test_a_suggestion_is_capped_so_memory_is_bounded() -> None:
    cache, _ = make_cache(max_entries=3)
    for key in "abcd":
        cache.put(key, "x" * (10 * MAX_SUGGESTION_CHARS), uri=URI)
    assert cache.entries == 3
    assert {len(cache.get(key) or "") for key in "bcd"} == {MAX_SUGGESTION_CHARS}


# -- typing-through -----------------------------------------------------------------------


def shown_cache() -> CompletionCache:
    cache, _ = make_cache()
    cache.remember(URI, PREFIX, SUFFIX, SUGGESTION)
    return cache


@pytest.mark.parametrize("typed", ["r", "re", "ret", "return", "return a", "return a + "])
def test_typing_the_start_of_a_suggestion_serves_the_rest(typed: str) -> None:
    cache = shown_cache()
    assert cache.typed_through(URI, PREFIX + typed, SUFFIX) == SUGGESTION[len(typed) :]
    assert cache.typed == 1


@pytest.mark.parametrize("typed", ["x", "rx", "retrun", " return", "R"])
def test_typing_something_else_misses(typed: str) -> None:
    cache = shown_cache()
    assert cache.typed_through(URI, PREFIX + typed, SUFFIX) is None
    assert cache.typed == 0


def test_the_same_spot_is_not_typing_through() -> None:
    """Nothing was typed: that is the cache's exact-key job, not typing-through."""
    assert shown_cache().typed_through(URI, PREFIX, SUFFIX) is None


def test_deleting_below_the_shown_spot_misses() -> None:
    assert shown_cache().typed_through(URI, PREFIX[:-1], SUFFIX) is None


def test_deleting_back_within_what_was_typed_still_serves() -> None:
    cache = shown_cache()
    assert cache.typed_through(URI, PREFIX + "ret", SUFFIX) == "urn a + b"
    assert cache.typed_through(URI, PREFIX + "re", SUFFIX) == "turn a + b"


@pytest.mark.parametrize("typed", [SUGGESTION, SUGGESTION + " ", SUGGESTION + "\n"])
def test_a_fully_typed_suggestion_has_nothing_left_to_serve(typed: str) -> None:
    assert shown_cache().typed_through(URI, PREFIX + typed, SUFFIX) is None


def test_a_changed_suffix_misses() -> None:
    cache = shown_cache()
    assert cache.typed_through(URI, PREFIX + "re", SUFFIX + "# more\n") is None
    assert cache.typed_through(URI, PREFIX + "re", ")" + SUFFIX) is None


def test_a_changed_text_before_the_spot_misses() -> None:
    edited = PREFIX.replace("add", "sum")
    assert shown_cache().typed_through(URI, edited + "re", SUFFIX) is None


def test_another_document_misses() -> None:
    assert shown_cache().typed_through("file:///other.py", PREFIX + "re", SUFFIX) is None


def test_multi_line_suggestions_are_typed_through_across_lines() -> None:
    cache, _ = make_cache()
    cache.remember(URI, "def f():", "\n", "\n    return 1\n")
    assert cache.typed_through(URI, "def f():\n    ", "\n") == "return 1\n"


def test_the_newest_matching_suggestion_wins() -> None:
    cache = shown_cache()
    cache.remember(URI, PREFIX, SUFFIX, "return b + a")
    assert cache.typed_through(URI, PREFIX + "return ", SUFFIX) == "b + a"


def test_an_older_suggestion_still_serves_when_the_newer_does_not_match() -> None:
    cache = shown_cache()
    cache.remember(URI, PREFIX, SUFFIX, "pass")
    assert cache.typed_through(URI, PREFIX + "ret", SUFFIX) == "urn a + b"


def test_only_the_last_few_suggestions_of_a_document_are_remembered() -> None:
    cache = shown_cache()
    for i in range(SHOWN_PER_DOCUMENT):
        cache.remember(URI, f"other {i}", SUFFIX, "pass")
    assert cache.typed_through(URI, PREFIX + "re", SUFFIX) is None


def test_only_the_last_few_documents_are_remembered_least_recent_out() -> None:
    cache = shown_cache()
    cache.remember("file:///kept.py", PREFIX, SUFFIX, SUGGESTION)
    for i in range(SHOWN_DOCUMENTS - 2):
        cache.remember(f"file:///{i}.py", PREFIX, SUFFIX, SUGGESTION)
    cache.remember("file:///kept.py", "x", SUFFIX, "y")  # used again: most recent
    cache.remember("file:///newer.py", PREFIX, SUFFIX, SUGGESTION)
    cache.remember("file:///newest.py", PREFIX, SUFFIX, SUGGESTION)
    assert cache.typed_through(URI, PREFIX + "re", SUFFIX) is None
    assert cache.typed_through("file:///0.py", PREFIX + "re", SUFFIX) is None
    assert cache.typed_through("file:///1.py", PREFIX + "re", SUFFIX) == "turn a + b"
    assert cache.typed_through("file:///kept.py", PREFIX + "re", SUFFIX) == "turn a + b"
    assert cache.typed_through("file:///newest.py", PREFIX + "re", SUFFIX) == "turn a + b"


def test_forget_drops_what_was_remembered_for_a_document() -> None:
    cache = shown_cache()
    cache.forget(URI)
    assert cache.typed_through(URI, PREFIX + "re", SUFFIX) is None
    cache.forget("file:///never-seen.py")


def test_forget_drops_the_documents_entries_and_only_them() -> None:
    cache, _ = make_cache()
    cache.put("calc", "1", uri=URI)
    cache.put("calc 2", "2", uri=URI)
    cache.put("other", "3", uri="file:///project/other.py")
    cache.forget(URI)
    assert (cache.peek("calc"), cache.peek("calc 2"), cache.peek("other")) == (None, None, "3")
    assert cache.entries == 1


def test_keys_noted_per_document_stay_bounded_by_the_cache() -> None:
    """A long-open document's expired and evicted keys do not pile up for ``forget``."""
    cache, _ = make_cache(max_entries=4)
    for i in range(100):
        cache.put(f"k{i}", "x", uri=URI)
    assert len(cache._keys_of[URI]) <= 2 * 4
    cache.forget(URI)
    assert cache.entries == 0


def test_remembered_suggestions_are_capped() -> None:
    cache, _ = make_cache()
    cache.remember(URI, PREFIX, SUFFIX, "x" * (2 * MAX_SUGGESTION_CHARS))
    rest = cache.typed_through(URI, PREFIX + "x", SUFFIX)
    assert rest is not None and len(rest) == MAX_SUGGESTION_CHARS - 1


def test_accepting_is_counted() -> None:
    cache = shown_cache()
    cache.accepted(URI)
    assert cache.accepted_count == 1


def test_keys_do_not_collide_when_text_contains_a_nul() -> None:
    one = CompletionCache.key("m", "f", {}, Prompt("a\0", "b", True, ()))
    other = CompletionCache.key("m", "f", {}, Prompt("a", "\0b", True, ()))
    assert one != other


def test_how_sure_the_model_was_of_a_remembered_suggestion_or_its_rest() -> None:
    cache = CompletionCache(max_entries=8, ttl_seconds=60)
    cache.remember(URI, PREFIX, SUFFIX, "return a + b", -0.25)
    cache.remember(URI, "x = ", SUFFIX, "1", None)
    assert cache.sureness(URI, "return a + b") == -0.25
    assert cache.sureness(URI, "a + b") == -0.25  # the rest, being typed through
    assert cache.sureness(URI, "1") is None  # the model gave none
    assert cache.sureness(URI, "pass") is None
    assert cache.sureness("file:///other.py", "return a + b") is None
