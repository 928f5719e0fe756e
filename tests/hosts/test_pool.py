"""The host pool: order, failover before the first chunk only, health, probes, affinity."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from ollama_lsp.hosts import HostPool, Member, PooledProvider, PooledStore, PoolUnreachable
from ollama_lsp.ollama.errors import ModelNotFound, OllamaHTTPError, OllamaUnreachable
from ollama_lsp.provider import (
    AiProvider,
    ChatMessage,
    CodeCompletionRequest,
    ModelInfo,
    NeedsOllama,
    ProviderCapabilities,
    ProviderError,
    PullProgress,
    TextChunk,
)


class Host(AiProvider):
    """A scripted host: answers ``chunks`` or fails with ``error`` (before or after a chunk)."""

    def __init__(self, name: str) -> None:
        self.host = name
        self.error: ProviderError | None = None
        self.fail_after_first = False
        self.asked: list[str] = []
        self.probe_ok = asyncio.Event()

    def name(self) -> str:
        return "ollama"

    async def capabilities(self, model: str) -> ProviderCapabilities:
        self._maybe_fail()
        return ProviderCapabilities(True, True, True, True, 4096)

    def _maybe_fail(self) -> None:
        if self.error is not None:
            raise self.error

    async def complete_code(self, request: CodeCompletionRequest) -> AsyncIterator[TextChunk]:
        self.asked.append(request.affinity)
        if not self.fail_after_first:
            self._maybe_fail()
        yield TextChunk(f"from {self.host}")
        if self.fail_after_first:
            self._maybe_fail()
        yield TextChunk("", done=True)

    async def chat(self, messages: Sequence[ChatMessage], *, model: str) -> ChatMessage:
        self._maybe_fail()
        return ChatMessage("assistant", self.host)

    async def stream_chat(
        self, messages: Sequence[ChatMessage], *, model: str
    ) -> AsyncIterator[str]:
        self._maybe_fail()
        yield self.host

    async def list_models(self) -> list[ModelInfo]:
        self._maybe_fail()
        return [ModelInfo(f"model-on-{self.host}")]

    async def warm_up(self, model: str, *, num_ctx: int | None = None) -> None:
        self._maybe_fail()

    async def pull_model(self, name: str) -> AsyncIterator[PullProgress]:
        yield PullProgress("success")

    async def probe(self) -> str:
        if self.error is not None:
            raise self.error
        return "0.12.0"


def pool_of(
    *names: str, probe_interval: float = 0.01, store: bool = True
) -> tuple[HostPool, list[Host]]:
    hosts = [Host(n) for n in names]
    members = [Member(h.host, h, None, probe=h.probe) for h in hosts]
    return HostPool(members, probe_interval=probe_interval), hosts


async def text_of(provider: AiProvider, affinity: str = "") -> str:
    request = CodeCompletionRequest(model="m", prompt="p", affinity=affinity)
    return "".join([c.text async for c in provider.complete_code(request)])


def down(host: Host) -> None:
    host.error = OllamaUnreachable(host.host)


async def test_requests_without_a_document_take_hosts_in_order() -> None:
    pool, _ = pool_of("a", "b")
    assert await text_of(PooledProvider(pool)) == "from a"


async def test_a_dead_host_fails_over_within_the_same_request() -> None:
    pool, (a, _b) = pool_of("a", "b")
    down(a)
    assert await text_of(PooledProvider(pool)) == "from b"
    assert [m.state for m in pool.members] == ["down", "up"]
    assert "not reachable" in (pool.members[0].error or "")


async def test_5xx_fails_over_and_4xx_does_not() -> None:
    pool, (a, _b) = pool_of("a", "b")
    a.error = OllamaHTTPError(503, "overloaded", what="generate")
    assert await text_of(PooledProvider(pool)) == "from b"
    pool, (a, _b) = pool_of("a", "b")
    a.error = OllamaHTTPError(400, "bad request", what="generate")
    with pytest.raises(OllamaHTTPError):
        await text_of(PooledProvider(pool))


async def test_no_failover_once_text_has_flowed() -> None:
    pool, (a, b) = pool_of("a", "b")
    down(a)
    a.fail_after_first = True
    with pytest.raises(OllamaUnreachable):
        await text_of(PooledProvider(pool))
    assert b.asked == []


async def test_one_host_errors_reach_the_caller_unchanged() -> None:
    pool, (a,) = pool_of("a")
    down(a)
    with pytest.raises(OllamaUnreachable) as caught:
        await text_of(PooledProvider(pool))
    assert caught.value.host == "a"


async def test_every_host_down_names_each() -> None:
    pool, hosts = pool_of("a", "b")
    for host in hosts:
        down(host)
    with pytest.raises(PoolUnreachable) as caught:
        await text_of(PooledProvider(pool))
    assert "a: Ollama is not reachable at a" in caught.value.message
    assert "b: Ollama is not reachable at b" in caught.value.message


async def test_a_host_without_the_model_is_skipped_but_not_down() -> None:
    pool, (a, _b) = pool_of("a", "b")
    a.error = ModelNotFound("m")
    assert await text_of(PooledProvider(pool)) == "from b"
    assert pool.members[0].state == "unknown"


async def test_model_missing_everywhere_offers_the_pull() -> None:
    pool, hosts = pool_of("a", "b")
    for host in hosts:
        host.error = ModelNotFound("m")
    with pytest.raises(ModelNotFound):
        await text_of(PooledProvider(pool))


async def test_a_document_stays_on_its_host_and_documents_spread() -> None:
    pool, _ = pool_of("a", "b", "c")
    provider = PooledProvider(pool)
    served = {}
    for n in range(30):
        uri = f"file:///doc{n}.py"
        first = await text_of(provider, uri)
        assert all([await text_of(provider, uri) == first for _ in range(3)])
        served[uri] = first
    assert len(set(served.values())) == 3  # 30 documents over 3 hosts: every host gets some


async def test_only_a_dead_hosts_documents_move_and_they_come_back() -> None:
    pool, hosts = pool_of("a", "b", "c")
    provider = PooledProvider(pool)
    uris = [f"file:///doc{n}.py" for n in range(30)]
    before = {u: await text_of(provider, u) for u in uris}
    down(hosts[0])
    during = {u: await text_of(provider, u) for u in uris}
    moved = {u for u in uris if before[u] != during[u]}
    assert moved == {u for u in uris if before[u] == "from a"}
    hosts[0].error = None
    await asyncio.wait_for(pool.recovered.wait(), 5)  # the probe found it
    assert pool.members[0].state == "up"
    after = {u: await text_of(provider, u) for u in uris}
    assert after == before


async def test_a_down_host_is_still_a_last_resort() -> None:
    pool, (a, b) = pool_of("a", "b", probe_interval=3600)
    down(a)
    assert await text_of(PooledProvider(pool)) == "from b"
    a.error = None
    down(b)
    assert await text_of(PooledProvider(pool)) == "from a"  # tried after b failed
    assert [m.state for m in pool.members] == ["up", "down"]


async def test_status_names_each_host_and_never_a_secret() -> None:
    pool, (a, _b) = pool_of("https://user:***@gpu:443", "b")
    down(a)
    await text_of(PooledProvider(pool))
    status = pool.status()
    assert [s["state"] for s in status] == ["down", "up"]
    assert status[1]["served"] == 1


async def test_chat_and_listings_fail_over_too() -> None:
    pool, (a, _b) = pool_of("a", "b")
    down(a)
    provider = PooledProvider(pool)
    assert (await provider.chat([ChatMessage("user", "hi")], model="m")).content == "b"
    assert [p async for p in provider.stream_chat([], model="m")] == ["b"]
    assert [m.name for m in await provider.list_models()] == ["model-on-b"]


async def test_warm_up_loads_on_every_live_host() -> None:
    pool, (a, _b) = pool_of("a", "b")
    down(a)
    await PooledProvider(pool).warm_up("m")
    assert [m.state for m in pool.members] == ["down", "up"]


async def test_a_store_less_pool_says_management_needs_ollama() -> None:
    pool, _ = pool_of("http://vllm:8000")
    store = PooledStore(pool)
    assert not store.available
    with pytest.raises(NeedsOllama) as caught:
        await store.delete("m")
    assert "needs Ollama" in caught.value.message and "http://vllm:8000" in caught.value.message
    with pytest.raises(NeedsOllama):
        [p async for p in PooledProvider(pool).pull_model("m")]


async def test_a_host_that_took_the_request_but_never_answered_fails_over() -> None:
    pool, (a, _b) = pool_of("a", "b")
    error = ProviderError("no response (Server disconnected without sending a response.)")
    error.unanswered = True
    a.error = error
    assert await text_of(PooledProvider(pool)) == "from b"
    assert pool.members[0].state == "down"
