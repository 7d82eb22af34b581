"""The build's progress bar: only on a terminal, only after a second, cleared at the end."""
import io

from generator.cli import ProgressBar
from generator.workers import map_chunks


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_draws_on_a_terminal_and_clears(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    bar = ProgressBar(delay=0)
    bar("Markdown", 5, 10)
    bar.close()
    assert "\rMarkdown       [###############...............] 5/10" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r" + " " * 70 + "\r")


def test_bar_waits_for_a_slow_build_and_stays_off_pipes(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    ProgressBar(delay=60)("Reading", 1, 2)
    assert terminal.getvalue() == ""
    pipe = io.StringIO()
    monkeypatch.setattr("sys.stderr", pipe)
    ProgressBar(delay=0)("Reading", 1, 2)
    assert pipe.getvalue() == ""


def test_work_reports_progress_up_to_the_total():
    seen = []
    results = map_chunks(lambda state, chunk: sum(chunk) + state, 0, list(range(100)), 1,
                         lambda done, total: seen.append((done, total)))
    assert sum(results) == sum(range(100))
    assert seen[-1] == (100, 100) and all(t == 100 for _, t in seen) and len(seen) > 1
