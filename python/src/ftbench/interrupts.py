"""Stopping on SIGINT and SIGTERM without losing the signal.

``ftbench`` runs every command inside :func:`stop_on_signals`; the suite, which
starts one program after another, calls :func:`raise_if_stopped` where a signal's
exception may have been lost.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

_signals_received: list[str] = []
"""Signals seen by the handler of :func:`stop_on_signals`, oldest first."""


def _stop(signum: int, frame: object) -> None:
    """Handler for SIGINT and SIGTERM: remember the signal, then unwind."""
    _signals_received.append(f"interrupted by {signal.Signals(signum).name}")
    raise KeyboardInterrupt(_signals_received[-1])


def received() -> str | None:
    """``"interrupted by SIGTERM"`` (or SIGINT) if :func:`stop_on_signals`' handler
    has run in this block, else None. Code that turns exceptions into its own
    errors may have reworded the KeyboardInterrupt (measured: TorchScript's forward
    raises RuntimeError("KeyboardInterrupt: ...") or an empty RuntimeError when
    the signal lands inside it); ``ftbench`` asks here before blaming the error."""
    return _signals_received[0] if _signals_received else None


def raise_if_stopped() -> None:
    """Raise the KeyboardInterrupt of a signal whose own exception was lost.

    Python prints and ignores an exception raised where it cannot propagate;
    measured: SIGTERM arriving while ``subprocess.Popen`` ran the logging module's
    after-fork hook in the parent was lost there, and the suite ran on."""
    if _signals_received:
        raise KeyboardInterrupt(_signals_received[0])


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within this block SIGINT and SIGTERM raise ``KeyboardInterrupt("interrupted
    by SIGTERM")`` (a batch system's kill unwinds as Ctrl-C does) and are
    remembered, so :func:`ftbench.suite.run_suite` stops at its next check even where Python lost
    the exception. The previous handlers come back on exit. Main thread only
    (``signal.signal``'s rule)."""
    _signals_received.clear()
    previous = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _signals_received.clear()
