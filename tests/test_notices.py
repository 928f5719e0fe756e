from ollama_lsp.notices import NoticeBoard


def test_unreachable_is_told_once_until_recovery() -> None:
    board = NoticeBoard()
    assert board.unreachable("http://h:1")
    assert not board.unreachable("http://h:1")
    assert board.is_down
    assert board.reachable()
    assert not board.reachable()
    assert board.unreachable("http://h:1")


def test_a_different_host_is_news() -> None:
    board = NoticeBoard()
    assert board.unreachable("http://a:1")
    assert board.unreachable("http://b:1")


def test_missing_model_once_per_model() -> None:
    board = NoticeBoard()
    assert board.model_missing("a")
    assert not board.model_missing("a")
    assert board.model_missing("b")
    board.model_available("a")
    assert board.model_missing("a")


def test_settings_errors_only_when_changed_and_present() -> None:
    board = NoticeBoard()
    assert not board.settings_errors(())
    assert board.settings_errors(("x",))
    assert not board.settings_errors(("x",))
    assert board.settings_errors(("x", "y"))
    assert not board.settings_errors(())
    assert board.settings_errors(("x",))
