from ollama_lsp.models.pulling import PullTracker, human_bytes
from ollama_lsp.ollama.types import PullProgress


def test_human_bytes() -> None:
    assert human_bytes(3_825_000_000) == "3.8 GB"
    assert human_bytes(1_200_000_000) == "1.2 GB"
    assert human_bytes(637_700_138) == "637.7 MB"
    assert human_bytes(70) == "70 B"


def test_percentage_is_overall_and_never_goes_back() -> None:
    t = PullTracker()
    assert t.update(PullProgress("pulling manifest")) == "pulling manifest"
    big = "sha256:" + "a" * 64
    small = "sha256:" + "b" * 64
    seen = []
    for done in (0, 1_000_000_000, 2_000_000_000, 3_800_000_000):
        msg = t.update(PullProgress("pulling aaaaaaaaaaaa", big, 3_800_000_000, done or None))
        seen.append(t.percentage)
    assert msg == "pulling 3.8 GB / 3.8 GB"
    t.update(PullProgress("pulling bbbbbbbbbbbb", small, 70, None))
    seen.append(t.percentage)
    t.update(PullProgress("pulling bbbbbbbbbbbb", small, 70, 70))
    seen.append(t.percentage)
    assert seen == sorted(seen)
    assert seen[:4] == [0, 26, 52, 100]
    t.update(PullProgress("success"))
    assert t.percentage == 100
