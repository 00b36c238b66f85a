"""The proposal-number explorer: dueling proposers in the simulator, with a numbering scheme,
a seed and optionally one acceptor down; see every proposer's numbers over time and which
numbers two of them used.

Every control calls ``update()``, which re-runs the duel from the seed and redraws a
one-line summary and the chart; a bad combination (mod n with n smaller than the number of
proposers, say) is reported in the panel and the last good picture stays.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..experiments.proposal_numbers import duel_chart, simulate_duel
from ..protocols.ballots import ModN
from ..validate import boolean, finite_time, whole_number
from .replication import _img

SCHEMES = ("naive", "mod-n", "round-id")


class DuelExplorer:
    """Proposers retry at once (no backoff) against acceptors a1, a2, a3 and learner l1."""

    def __init__(self, scheme: str = "naive", proposers: int = 2, n: int = 2, seed: int = 0,
                 a3_down: bool = False, until: float = 40.0):
        if scheme not in SCHEMES:
            raise ValueError(f"unknown scheme {scheme!r}; choose one of: {', '.join(SCHEMES)}")
        if isinstance(proposers, bool) or proposers not in range(2, 5):
            raise ValueError(f"proposers must be 2 to 4 here, got {proposers!r}")
        whole_number("n", n, 1, 9)                    # the widgets' ranges: they would clamp
        whole_number("seed", seed, 0, 50)
        boolean("a3_down", a3_down)
        self.until = finite_time("until", until)
        self.scheme = widgets.Dropdown(options=SCHEMES, value=scheme, description="scheme")
        self.proposers = widgets.IntSlider(value=proposers, min=2, max=4,
                                           description="proposers", continuous_update=False)
        self.n = widgets.BoundedIntText(value=n, min=1, max=9, description="n (mod n)")
        self.seed = widgets.IntSlider(value=seed, min=0, max=50, description="seed",
                                      continuous_update=False)
        self.a3_down = widgets.Checkbox(value=a3_down, description="a3 down")
        self.message = widgets.HTML()
        self.summary = widgets.HTML()
        self.chart = widgets.HTML()
        for w in (self.scheme, self.proposers, self.n, self.seed, self.a3_down):
            w.observe(lambda _: self.update(), names="value")
        self.widget = widgets.VBox([
            widgets.HBox([self.scheme, self.n, self.a3_down]),
            widgets.HBox([self.proposers, self.seed]),
            self.message, self.summary, self.chart])
        self.update()

    def settings(self) -> dict:
        """The arguments of ``simulate_duel`` the controls stand for."""
        ballots = ModN(self.n.value) if self.scheme.value == "mod-n" else self.scheme.value
        return dict(ballots=ballots, proposers=self.proposers.value, seed=self.seed.value,
                    down=("a3",) if self.a3_down.value else (), until=self.until)

    def update(self) -> bool:
        """Re-run and redraw; on a bad combination, say why and keep the last picture."""
        self.n.disabled = self.scheme.value != "mod-n"
        try:
            duel = simulate_duel(**self.settings())
        except ValueError as exc:
            self.message.value = f"<span style='color:#b00'>⚠ {html.escape(str(exc))}</span>"
            return False
        self.message.value = ""
        self.summary.value = f"<b>{html.escape(duel.summary())}</b>"
        self.chart.value = _img(duel_chart(duel))
        return True

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "Proposal-number duel explorer: run this cell in Jupyter to use it."
        return bundle
