"""Collect benchmark rows, print them as a Markdown table, and judge the targets."""

from __future__ import annotations

from dataclasses import dataclass, field


def _duration(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


@dataclass
class Row:
    name: str
    measured: str
    baseline: str
    ratio: str
    target: str
    met: bool | None
    note: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)

    def ratio(
        self,
        name: str,
        ours: float,
        other: float,
        *,
        unit: str,
        limit: float | None,
        note: str = "",
    ) -> None:
        """A timing ratio ``ours / other``; the target is met when it is <= ``limit``."""
        value = ours / other
        if limit is None:
            target, met = "report only", None
        elif limit < 1:
            target, met = f"<= {limit:.4f} ({1 / limit:.0f}x faster)", value <= limit
        else:
            target, met = f"<= {limit:g}", value <= limit
        shown = f"{value:.4f} ({1 / value:.0f}x faster)" if value < 1 else f"{value:.2f}"
        self.rows.append(
            Row(name, f"{_duration(ours)} {unit}", _duration(other), shown, target, met, note)
        )

    def count(self, name: str, measured: int, limit: int | None, note: str = "") -> None:
        """A request count; the target is met when it is <= ``limit``."""
        met = None if limit is None else measured <= limit
        target = "report only" if limit is None else f"<= {limit}"
        self.rows.append(Row(name, str(measured), "", "", target, met, note))

    def markdown(self) -> str:
        lines = [
            "| measurement | ours | baseline | ratio | target | met | note |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in self.rows:
            met = {True: "yes", False: "**NO**", None: "-"}[row.met]
            lines.append(
                f"| {row.name} | {row.measured} | {row.baseline} | {row.ratio} | "
                f"{row.target} | {met} | {row.note} |"
            )
        return "\n".join(lines)

    @property
    def missed(self) -> list[Row]:
        return [row for row in self.rows if row.met is False]
