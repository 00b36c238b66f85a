"""The chapters' experiments, one module per topic: each runs the simulator or the checker
from a seed it takes and returns plain numbers, tables or figures.

- ``sync_async``: chapter 01 (latency, messages, lost writes)
- ``primary_backup``: chapter 02 (the failure stories of primary/backup)
- ``atomic_commit``: chapter 03 (two-phase commit and 3PC under crashes)
- ``partitions``: chapter 04 (partitions, majorities, quorums)
- ``livelock``: chapter 06 (dueling proposers, backoff)
- ``proposal_numbers``: chapter 07 (Chubby's numbers, (round, id) pairs, collisions)
- ``compare``: chapter 08 (the approaches side by side)
"""


def finished(sim, what: str):
    """The trace of a measuring run, which must have run to its end: a run cut short by the
    simulator's event limit measured part of the workload only, and would say so nowhere."""
    if sim.stopped and sim.stopped.startswith("max_events"):
        raise ValueError(f"{what}: the run reached the simulator's event limit "
                         f"({sim.stopped}) before the workload was done; measure fewer "
                         f"operations or fewer nodes")
    return sim.trace


def text_grid(head, lines, units=None) -> list:
    """Text rows for printing: a header row (and a units row under it), a rule, then the
    lines, every column as wide as its widest cell."""
    rows = [list(head)] + ([list(units)] if units else []) + [list(x) for x in lines]
    widths = [max(len(str(x[i])) for x in rows) for i in range(len(head))]
    fmt = lambda row: "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
    top = [fmt(head)] + ([fmt(units)] if units else [])
    return top + [fmt(["-" * w for w in widths])] + [fmt(x) for x in lines]


class TextTable(list):
    """A list of rows (dicts with the same keys) that prints as an aligned table, so a
    chapter can ``print`` a measurement without formatting code of its own."""

    def __init__(self, rows, formats=None, note: str = ""):
        super().__init__(rows)
        self.formats = dict(formats or {})      # column -> "{:g}", or a function to text
        self.note = note                         # a line printed under the table

    def column(self, name) -> list:
        return [r[name] for r in self]

    def __str__(self):
        if not self:
            return "(no rows)"
        head = list(self[0])
        def cell(k, v):
            f = self.formats.get(k, "{}")
            return f(v) if callable(f) else f.format(v)
        out = text_grid(head, [[cell(k, r[k]) for k in head] for r in self])
        return "\n".join(out + ([self.note] if self.note else []))

    def _repr_pretty_(self, p, cycle):
        p.text(str(self))
