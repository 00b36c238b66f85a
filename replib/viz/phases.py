"""Space-time diagrams with a protocol's phases marked as shaded, labelled bands.

A phase is a set of message types (Paxos: Prepare and Promise are phase 1 of a ballot,
Accept and Accepted phase 2).  Its band runs from the first send to the last delivery of
those messages for one ballot, so a reader sees where each phase of each attempt happened.
"""

from __future__ import annotations

from .sequence import space_time

PAXOS_PHASES = {"Prepare": "phase 1", "Promise": "phase 1", "Reject": None,
                "Accept": "phase 2", "Accepted": "phase 2"}


def phase_spans(trace, phases=None) -> list:
    """[(label, start, end)] for each phase of each ballot, in order of start time.

    phases: message type name -> phase name (None: not part of a phase); the message's
    ``ballot`` field, when it has one, tells attempts apart."""
    phases = PAXOS_PHASES if phases is None else phases
    trace = getattr(trace, "trace", trace)
    spans = {}
    for e in trace.events:
        if e.kind not in ("send", "deliver") or e.msg is None:
            continue
        phase = phases.get(type(e.msg).__name__)
        if phase is None:
            continue
        ballot = getattr(e.msg, "ballot", None)
        key = (phase, ballot)
        start, end = spans.get(key, (e.time, e.time))
        spans[key] = (min(start, e.time), max(end, e.time))
    out = [(f"{phase}, ballot {ballot}" if ballot is not None else phase, start, end)
           for (phase, ballot), (start, end) in spans.items()]
    return sorted(out, key=lambda s: (s[1], s[0]))


def space_time_phases(trace, phases=None, title=None, **kwargs):
    """``space_time`` with each phase of each ballot shaded, and labelled above the lanes
    where the labels fit without covering each other (shortened where they do not)."""
    return space_time(trace, title=title, bands=phase_spans(trace, phases), **kwargs)
