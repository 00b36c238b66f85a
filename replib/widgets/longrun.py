"""A button for a computation too long to run on every pass through a notebook.

The notebook shows a quick version by default; the reader clicks for the full one, sees a
progress bar while it runs, and its printed result below.  The button stays usable: a
second click runs it again, and an error is shown, not raised.
"""

from __future__ import annotations

import ipywidgets as widgets


class LongRun:
    """``LongRun("Run the full check (about 15 s)", fn)``: click to run ``fn()`` and print
    what it returns."""

    def __init__(self, description: str, fn):
        if not callable(fn):
            raise ValueError(f"LongRun needs a function to run, got {fn!r}")
        self.fn = fn
        self.button = widgets.Button(description=description,
                                     layout=widgets.Layout(width="auto"))
        self.output = widgets.Output()
        self.button.on_click(lambda _: self.run())
        self.box = widgets.VBox([self.button, self.output])

    def run(self):
        """Run it (what the button does); returns the result, or None after an error."""
        self.button.disabled = True
        self.output.clear_output()
        result = None
        with self.output:
            try:
                result = self.fn()
                print(result)
            except Exception as exc:   # shown to the reader, the notebook keeps working
                print(f"It stopped with {type(exc).__name__}: {exc}")
        self.button.disabled = False
        return result

    def _repr_mimebundle_(self, **kwargs):
        return self.box._repr_mimebundle_(**kwargs)
