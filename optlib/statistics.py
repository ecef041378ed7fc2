r"""Summaries of a result over seeds: the line and band of a figure.

A study that trains every setting on several seeds gets, for each recorded value, one number per seed,
and near an optimizer's edge of stability those numbers are heavy-tailed: most seeds end low, a few far
above. Two summaries of the centre are common, and they answer different questions:

* the **median** is the typical run (half the seeds end below it); one seed far out moves it by at most
  one rank, so it is the honest summary of a heavy-tailed result;
* the **mean** is the average cost of a run, and one bad seed in three moves it a long way: the summary
  to use when a bad seed must count against a setting (tuning), not the one to report a typical run with.

:func:`seed_band` gives either, with the range over seeds, with one convention for runs that diverged.

Conventions: seeds along axis 0 (``values[i]`` is seed ``i``'s row, as in
:class:`optlib.models.History`); a diverged run is recorded as ``nan`` (optlib's runners) or ``inf``,
and any entry that is not finite is left out of every statistic of its column; a column where every
seed diverged is ``nan`` in all three results (matplotlib leaves a gap there).

>>> import numpy as np
>>> losses = np.array([[1.0, 0.1], [2.0, 0.3], [30.0, np.nan]])   # three seeds, two epochs; seed 2 diverged
>>> centre, low, high = seed_band(losses)                          # median, min, max
>>> centre.tolist(), low.tolist(), high.tolist()
([2.0, 0.2], [1.0, 0.1], [30.0, 0.3])
>>> seed_band(losses, statistic="mean")[0].tolist()                # seed 2's 30 pulls the mean
[11.0, 0.2]
"""

from __future__ import annotations

import numpy as np

from .validation import numeric_array, one_of

__all__ = ["STATISTICS", "seed_band"]

#: The summaries of the centre that :func:`seed_band` offers, each over the seeds that did not diverge.
STATISTICS = {"median": np.ma.median, "mean": np.ma.mean}


def seed_band(values, statistic: str = "median") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(centre, low, high)`` over seeds (axis 0): the median (or mean) and the min and max.

    Entries that are not finite (diverged runs) are left out of each column; a column with no finite
    entry is ``nan`` in all three. ``statistic`` is ``"median"`` (the typical run, the default) or
    ``"mean"`` (the average run, pulled by the tail); see the module's docstring for when to use which.
    """
    one_of("statistic", statistic, tuple(STATISTICS))
    masked = np.ma.masked_invalid(numeric_array("values", values))
    if masked.ndim == 0:
        raise ValueError("Invalid values: values must have a seeds axis (axis 0), got a scalar")
    summaries = (STATISTICS[statistic](masked, axis=0), masked.min(axis=0), masked.max(axis=0))
    return tuple(np.ma.filled(np.ma.asarray(s).astype(float), np.nan) for s in summaries)
