"""The stats screen (f5): sends and replies per day, reply rate per template with its interval, the
templates table, the alerts, what Lumina learned, and "as of" the consumers' progress.

Every figure comes from `services.stats.stats` (pre-computed tables; never a scan of the log),
loaded on a thread worker and refreshed every few seconds while the screen is shown. Template
names and alert titles are stored text (prospects, mailboxes): they go through `terminal_safe`
and are never parsed as markup. `r` marks the alerts read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Static
from textual_plotext import PlotextPlot

from lumina_tui.services import stats as stats_service
from lumina_tui.services.errors import LuminaError
from lumina_tui.services.terminal_text import terminal_safe as safe
from lumina_tui.tui.bindings import Where, bindings_for
from lumina_tui.tui.service_jobs import run_service

if TYPE_CHECKING:
    from textual import getters

    from lumina_tui.tui.app import LuminaApp

REFRESH_SECONDS = 3.0
DAYS = 14


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def as_of_line(doc: dict[str, Any]) -> str:
    """ "as of <time>" of the slowest consumer, and what lags or fails, in one line."""
    entries = doc["as_of"]
    stamps = [e["as_of"] for e in entries if e["as_of"]]
    when = min(stamps)[:16].replace("T", " ") if stamps else "no events yet"
    behind = [e for e in entries if e["behind"]]
    failing = [e for e in entries if e["failures"]]
    words = f"as of {when} UTC"
    if failing:
        words += " · failing: " + ", ".join(e["consumer"] for e in failing)
    elif behind:
        most = max(e["behind"] for e in behind)
        words += f" · catching up ({most}{'+' if any(e['behind_capped'] for e in behind) else ''} events)"
    else:
        words += " · up to date"
    return words


class StatsScreen(Screen[None]):
    if TYPE_CHECKING:  # screens see the app's runtime typed (no run-time change)
        app = getters.app(LuminaApp)

    BINDINGS: ClassVar[list[BindingType]] = bindings_for(Where.STATS)  # keys: tui/bindings.py
    CSS_PATH = "stats.tcss"  # its layout (tui/screens/*.tcss: one per screen)

    def __init__(self) -> None:
        super().__init__()
        self.doc: dict[str, Any] | None = None
        self.loads = 0
        self._timer: Timer | None = None
        self._loading = False

    def compose(self) -> ComposeResult:
        yield Static("Stats · loading…", id="stats-head", markup=False)
        with VerticalScroll(id="stats-body"):
            with Horizontal(id="plots"):
                yield PlotextPlot(id="plot-days")
                yield PlotextPlot(id="plot-templates")
            yield Static("Templates (ranked by the 99% Wilson lower bound)", classes="stats-title")
            yield DataTable(id="stats-templates", cursor_type="row", zebra_stripes=True)
            yield Static("Alerts", classes="stats-title", id="alerts-title")
            yield DataTable(id="stats-alerts", cursor_type="row")
            yield Static("", id="stats-learning", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        templates = self.query_one("#stats-templates", DataTable)
        templates.add_columns("#", "Template", "Sent", "Replied", "Rate", "99% interval", "Bounced")
        alerts = self.query_one("#stats-alerts", DataTable)
        alerts.add_columns("", "When (UTC)", "Alert", "Detail")
        self.load()
        self._timer = self.set_interval(REFRESH_SECONDS, self.load)

    def _today(self) -> date | None:
        return getattr(self.app, "stats_today", None)

    def load(self) -> None:
        if not self._loading:
            self._loading = True
            self._fetch()

    def _fetch(self) -> None:
        runtime, today = self.app.runtime, self._today()
        run_service(self, lambda: read_stats(runtime, today), group="stats-load")

    def on_stats_read(self, message: StatsRead) -> None:
        if message.doc is None:
            self._failed(message.error)
        else:
            self._show(message.doc)

    def _failed(self, message: str) -> None:
        self._loading = False
        self.query_one("#stats-head", Static).update(Text(f"Stats · could not load: {safe(message)}"))

    def _show(self, doc: dict[str, Any]) -> None:
        self._loading = False
        self.doc = doc
        self.loads += 1
        t = doc["totals"]
        reply_time = t["avg_seconds_to_first_reply"]
        first_reply = f" · 1st reply ~{reply_time / 3600:.1f} h" if reply_time else ""
        head = Text()
        head.append("Stats", style="bold")
        head.append(f" · {as_of_line(doc)}\n")
        head.append(
            f"sent {t['sent']} · replied {t['replied']} ({_pct(t['reply_rate'])}) · bounced {t['bounced']}"
            f" ({_pct(t['bounce_rate'])}) · failed {t['failed']}{first_reply}"
        )
        self.query_one("#stats-head", Static).update(head)
        self._plot_days(doc)
        self._plot_templates(doc)
        self._fill_templates(doc)
        self._fill_alerts(doc)
        self._fill_learning(doc)

    def _plot_days(self, doc: dict[str, Any]) -> None:
        widget = self.query_one("#plot-days", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        days = doc["daily"]
        x = list(range(len(days)))
        plt.plot(x, [d["sent"] for d in days], label="sent", marker="braille")
        plt.plot(x, [d["replied"] for d in days], label="replied", marker="braille")
        step = max(1, len(days) // 4)
        plt.xticks([float(i) for i in x[::step]], [d["day"][5:] for d in days][::step])
        plt.title(f"Sent and replied per day ({len(days)} days)")
        widget.refresh()

    def _plot_templates(self, doc: dict[str, Any]) -> None:
        widget = self.query_one("#plot-templates", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        rows = doc["templates"][:6]
        plt.title("Reply rate per template (99% interval)")
        if not rows:
            widget.refresh()
            return
        for i, row in enumerate(rows, start=1):
            plt.plot([i, i], [row["reply_rate_low"] * 100, row["reply_rate_high"] * 100], marker="braille")
        plt.scatter(list(range(1, len(rows) + 1)), [r["reply_rate"] * 100 for r in rows], marker="●")
        # Numbered like the table's rank column: names would collide at 80 columns.
        plt.xticks(list(range(1, len(rows) + 1)), [f"#{i}" for i in range(1, len(rows) + 1)])
        plt.ylim(0, 100)
        plt.xlim(0.5, len(rows) + 0.5)
        widget.refresh()

    def _fill_templates(self, doc: dict[str, Any]) -> None:
        table = self.query_one("#stats-templates", DataTable)
        table.clear()
        for rank, row in enumerate(doc["templates"], start=1):
            table.add_row(
                str(rank),
                Text(safe(row["name"])[:28]),
                str(row["sent"]),
                str(row["replied"]),
                _pct(row["reply_rate"]),
                f"{_pct(row['reply_rate_low'])}–{_pct(row['reply_rate_high'])}",
                str(row["bounced"]),
            )

    def _fill_alerts(self, doc: dict[str, Any]) -> None:
        alerts = doc["alerts"]
        self.query_one("#alerts-title", Static).update(
            Text(f"Alerts · {alerts['unread']} unread" + (" (r: mark read)" if alerts["unread"] else ""))
        )
        table = self.query_one("#stats-alerts", DataTable)
        table.clear()
        for item in alerts["items"]:
            when = (item["created_at"] or "")[:16].replace("T", " ")
            table.add_row(
                "●" if not item["read"] else " ",
                when,
                Text(safe(item["title"])[:40]),
                Text(safe(item["detail"])[:60]),
            )

    def _fill_learning(self, doc: dict[str, Any]) -> None:
        learning = doc["learning"]
        text = Text()
        text.append("Learned", style="bold")
        tone = learning["default_tone"]
        text.append(f" · default tone: {'not enough feedback yet' if tone is None else f'{tone:.2f}'}\n")
        calibration = learning["calibration"]
        if not calibration:
            text.append(
                "Reply probability: the built-in rule (calibrates after 50 sends with a known result)"
            )
        else:
            used = (
                "calibrated"
                if calibration.get("use_calibrated")
                else "the built-in rule (calibration did not beat it)"
            )
            text.append(
                f"Reply probability: {used} · Brier on held-out rows: rule {calibration['brier_rule']:.3f},"
                f" calibrated {calibration['brier_calibrated']:.3f} (n={calibration['n_holdout']})\n"
            )
            text.append("  predicted  observed  rows\n")
            for b in calibration.get("reliability", []):
                text.append(f"  {b['predicted']:>8.2f}  {b['observed']:>8.2f}  {b['n']:>4}\n")
        self.query_one("#stats-learning", Static).update(text)

    def action_mark_read(self) -> None:
        self._mark_read()

    def _mark_read(self) -> None:
        runtime = self.app.runtime
        run_service(self, lambda: mark_read(runtime), group="stats-mark-read", exclusive=False)

    def on_alerts_marked_read(self, message: AlertsMarkedRead) -> None:
        if message.error is not None:
            self.app.notify(message.error, severity="error")
            return
        self.app.notify(f"{message.changed} alert(s) marked read")
        self.load()


@dataclass
class StatsRead(Message):
    """The stats document (None, with `error`, when it could not be read)."""

    doc: dict[str, Any] | None
    error: str = ""


@dataclass
class AlertsMarkedRead(Message):
    changed: int
    error: str | None = None


def read_stats(runtime: Any, today: date | None) -> StatsRead:
    """Thread worker: every figure of the screen (pre-computed tables)."""
    try:
        return StatsRead(stats_service.stats(runtime.db, runtime.actor, days=DAYS, today=today))
    except LuminaError as exc:
        return StatsRead(None, str(exc))
    except Exception as exc:  # a broken store must not kill the screen: say it, try again later
        return StatsRead(None, f"{type(exc).__name__}: {exc}")


def mark_read(runtime: Any) -> AlertsMarkedRead:
    try:
        return AlertsMarkedRead(stats_service.mark_alerts_read(runtime.db, runtime.actor))
    except LuminaError as exc:
        return AlertsMarkedRead(0, str(exc))
