"""Pictures of runs: space-time diagrams, topology pictures, and showing them with alt text.

    from replib.viz import space_time, topology, show
    show(space_time(trace))                          # the whole run
    show(space_time(trace, upto=12, highlight=12))   # what the trace player draws
    show(draw_history(history.linearizable(h)))      # a client history and its verdict

Every function returns a matplotlib Figure that carries ``fig.alt_text``, a plain-English
summary of what it shows; ``show`` displays the figure as a PNG with that text attached.
Figures made here are not registered with pyplot, so they are never shown twice and never
pile up in memory; a pyplot figure passed to ``show`` is closed after it is displayed.
"""

from __future__ import annotations

import base64
import html
import io
import sys

from . import lint as _lint
from . import palette
from .histories import draw_history
from .lint import FigureLintError, lint
from .palette import message_style, register_message_style, role_color
from .sequence import build_scene, describe, short_label, space_time, space_time_stack
from .topology import topology, topology_of

__all__ = [
    "FigureLintError", "build_scene", "describe", "draw_history", "lint", "message_style",
    "palette", "register_message_style", "role_color", "short_label", "show", "space_time",
    "space_time_stack", "to_png", "topology", "topology_of",
]


def _check_figure(fig):
    from matplotlib.figure import Figure
    if not isinstance(fig, Figure):
        raise ValueError(f"expected a matplotlib Figure (e.g. from space_time or topology), "
                         f"got {fig!r}")


def to_png(fig, dpi: float | None = None, small: bool = True) -> bytes:
    """The figure as PNG bytes on a white background, with its alt text embedded as the
    PNG's Description (so a saved file keeps its description too).

    small: store the picture with a palette of 256 colours.  The diagrams use a few flat
    colours, so this looks the same, makes files about four times smaller (notebooks keep
    their outputs) and encodes faster than a full-colour PNG."""
    _check_figure(fig)
    dpi = float(dpi or fig.dpi)
    alt = getattr(fig, "alt_text", None)
    if small:
        from PIL import Image, PngImagePlugin
        raw = io.BytesIO()
        fig.savefig(raw, format="rgba", dpi=dpi, facecolor="white")
        data = raw.getvalue()
        size = _raw_size(fig, dpi, len(data))
        if size is not None:
            w, h = size
            img = Image.frombuffer("RGBA", (w, h), data, "raw", "RGBA", 0, 1)
            white = Image.new("RGBA", (w, h), (255, 255, 255, 255))
            img = Image.alpha_composite(white, img).convert("RGB")
            img = img.quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                               dither=Image.Dither.NONE)
            info = PngImagePlugin.PngInfo()
            info.add_text("Software", "replib + matplotlib")
            if alt:
                info.add_itxt("Description", alt)
            out = io.BytesIO()
            img.save(out, format="png", pnginfo=info, dpi=(dpi, dpi), compress_level=6)
            return out.getvalue()
    meta = {"Software": "replib + matplotlib"}
    if alt:
        meta["Description"] = alt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white", metadata=meta,
                pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def _raw_size(fig, dpi, nbytes):
    """Width and height of the RGBA buffer savefig wrote (Agg truncates figsize * dpi, and
    the product may land a hair either side of a whole number)."""
    w_f, h_f = (float(x) * dpi for x in fig.get_size_inches())
    for w in (int(w_f), int(round(w_f)), int(w_f) - 1):
        if w > 0 and nbytes % (4 * w) == 0:
            h = nbytes // (4 * w)
            if abs(h - h_f) <= 1.5:
                return w, h
    return None


def _close(fig) -> None:
    """Close a pyplot-managed figure so the inline backend does not show it a second time."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None and getattr(fig, "number", None) in plt.get_fignums():
        plt.close(fig)


def show(fig, caption: str | None = None, details: bool = True, dpi: float | None = None,
         small: bool = True) -> None:
    """Display a figure in the notebook as a PNG with its alt text, then close it.

    caption: one sentence saying what the figure shows (its point, not its inventory); it
    opens the alt text, before the description the figure generated of what is in it.
    The alt text goes where notebook tools look for it: the image's ``alt`` metadata (used
    by nbconvert's HTML export and nbsphinx) and the output's text/plain form.  JupyterLab
    4 does not yet copy image metadata into the <img alt> attribute, so by default a small
    collapsed "Text description" follows the image, which screen readers can reach.
    With ``REPLIB_LINT`` set (the course's builds and tests), a figure whose text overlaps
    or is cut off raises ``FigureLintError`` instead of being shown."""
    _check_figure(fig)
    if caption is not None and (not isinstance(caption, str) or not caption.strip()):
        raise ValueError(f"caption must be a sentence saying what the figure shows, got "
                         f"{caption!r}")
    if _lint.strict():
        try:
            _lint.check(fig)
        except FigureLintError:
            _close(fig)
            raise
    alt = getattr(fig, "alt_text", None) or "A figure (no description was given)."
    if caption:
        caption = caption.strip()
        alt = caption + ("" if caption.endswith((".", "!", "?")) else ".") + " " + alt
        fig.alt_text = alt
    png = to_png(fig, dpi, small)
    _close(fig)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:   # plain Python: the description is the best we can show
        print(alt)
        return
    if get_ipython() is None:
        print(alt)
        return
    display({"image/png": base64.b64encode(png).decode("ascii"), "text/plain": alt},
            raw=True, metadata={"image/png": {"alt": alt}})
    if details:
        display({"text/html": "<details><summary>Text description</summary><p>"
                              f"{html.escape(alt)}</p></details>"}, raw=True)
