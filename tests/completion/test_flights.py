"""A flight's record of how sure the model was of what it generated."""

from __future__ import annotations

from ollama_lsp.completion.flights import Flight


def test_a_flight_sums_its_pieces_logprobs() -> None:
    flight = Flight("m", "pre", "suf", "prompt")
    flight.chunk("return", -0.5)
    flight.chunk(" a", -0.25)
    flight.chunk("", None)  # the final chunk carries no text and no logprob
    assert flight.partial == "return a" and flight.logprob == -0.75


def test_one_piece_without_a_logprob_makes_it_unknown() -> None:
    flight = Flight("m", "pre", "suf", "prompt")
    flight.chunk("return", -0.5)
    flight.chunk(" a")
    flight.chunk(" + b", -0.1)
    assert flight.logprob is None
