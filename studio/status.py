"""The Optimize tab's status line: a Progress record as a progress bar and one line a person can read."""

from __future__ import annotations

from stylize.gatys.loop import Progress


def status_html(record: Progress, state: str = "") -> str:
    """A progress bar and one status line: step / total, loss, seconds per step, time left, and any steering."""
    # Under a time budget the total is the plan's estimate until the last step.
    estimated = record.budget is not None and not record.done
    pieces = [f"Step {record.step} of about {record.total}" if estimated else f"Step {record.step} / {record.total}"]
    if record.losses:
        pieces.append(f"loss {record.losses['total']:.4g}")
    if record.step:
        pieces.append(f"{record.elapsed / record.step:.2f} s/step")
    if record.eta is not None and not state:
        pieces.append(f"about {format_seconds(record.eta)} left")
    pieces.append(
        f"{format_seconds(record.elapsed)} elapsed"
        + (f" of {format_seconds(record.budget)}" if record.budget is not None else "")
    )
    percent = round(100 * (record.fraction if record.step else 0))
    note = f"<small>{record.steering_note}</small>" if record.steering_note else ""
    return (
        f'<div class="run-status"><progress max="100" value="{percent}"></progress>'
        f"<span>{state + ' ' if state else ''}{' · '.join(pieces)}</span>{note}</div>"
    )


def message_html(text: str) -> str:
    """A status line without a bar (text must already be escaped)."""
    return f"<div class='run-status'><span>{text}</span></div>"


def format_seconds(seconds: float) -> str:
    """45 s, 1 min 30 s, 3 min."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if rest else f"{minutes} min"
