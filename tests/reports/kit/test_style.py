"""The figure style: panels, and the axes, labels and legend of one log panel."""

from __future__ import annotations

import pytest

from heavytail.reports._kit.style import log_panel, panels, style


@pytest.mark.parametrize("log_y", [True, False])
def test_log_panel_sets_the_scales_labels_and_legend(log_y: bool) -> None:
    with style():
        fig, (ax,) = panels(None, 1)
        ax.plot([1, 10, 100], [1, 2, 3], label="data")
        log_panel(ax, "width n", "bound", "Bound against n", "lower right", log_y=log_y)
    assert ax.get_xscale() == "log"
    assert ax.get_yscale() == ("log" if log_y else "linear")
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "width n",
        "bound",
        "Bound against n",
    )
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["data"]
    assert legend.get_texts()[0].get_fontsize() == 6
    fig.clear()
