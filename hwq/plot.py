"""PNG histograms with calibration ranges marked (matplotlib, the optional ``plot`` extra)."""

from __future__ import annotations

import numpy as np


def histogram_with_ranges(path, data, ranges: dict, title: str | None = None, bins: int = 256):
    """Write a log-count histogram of ``data`` with one pair of vertical lines per entry of
    ``ranges`` (``label -> (lo, hi)``; arrays of per-channel ranges are drawn line by line)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("plotting needs matplotlib: pip install 'hwq[plot]'") from None
    values = np.asarray(data, np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("nothing to plot: the data has no finite values")
    fig, ax = plt.subplots(figsize=(7, 3.5))
    try:
        ax.hist(values, bins=bins, color="0.6", log=True)
        styles = ["-", "--", "-.", ":"]
        for j, (label, (lo, hi)) in enumerate(ranges.items()):
            color, style = f"C{j % 10}", styles[j % len(styles)]
            for i, (lo_i, hi_i) in enumerate(zip(np.ravel(lo), np.ravel(hi), strict=True)):
                ax.axvline(lo_i, color=color, ls=style, lw=1.2,
                           label=f"{label} [{lo_i:.3g}, {hi_i:.3g}]" if i == 0 else None)
                ax.axvline(hi_i, color=color, ls=style, lw=1.2)
        ax.set_xlabel("value")
        ax.set_ylabel("count")
        if title:
            ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
        fig.tight_layout()
        try:
            fig.savefig(path, dpi=100)
        except (OSError, ValueError) as e:
            raise OSError(f"cannot write plot {str(path)!r}: {e}") from None
    finally:
        plt.close(fig)
