"""Statistics over a benchmark's rounds, shared by networks_table.py and int8_table.py.

A round is one run of each side back to back, so its ratio sees one state of a shared machine; the
rounds' ratios are what the tables summarise. Their median says where the ratio sits; the interval
here says how far the noise of this run leaves it uncertain, with no assumption about the noise's
shape (a neighbour's load gives a few rounds far off, not a normal spread).
"""
import math


def median_interval(values, confidence=0.95):
    """A distribution-free confidence interval for the median of `values` (order statistics).

    For n values sorted, [x_(k), x_(n+1-k)] holds the median of the distribution they were drawn
    from with probability 1 - 2 P(B <= k - 1), B binomial(n, 1/2) (each value falls on either side
    of the median with even odds, independently). Returns (low, high, coverage) for the largest k
    whose coverage is at least `confidence`, or None when even the whole range falls short (at
    0.95, fewer than 6 values: 5 values cover 93.75 %).
    """
    xs = sorted(values)
    n = len(xs)
    best = None
    for k in range(1, n // 2 + 1):
        below = sum(math.comb(n, i) for i in range(k)) / 2.0 ** n  # P(B <= k - 1)
        coverage = 1.0 - 2.0 * below
        if coverage < confidence:
            break
        best = (xs[k - 1], xs[n - k], coverage)
    return best


def rounds_needed(confidence=0.95):
    """The fewest values for which median_interval gives an interval at `confidence`."""
    n = 1
    while median_interval([0.0] * n, confidence) is None:
        n += 1
    return n


def describe_interval(values, confidence=0.95):
    """The interval as the tables print it: '1.02-1.07x (97 %)', or why there is none."""
    found = median_interval(values, confidence)
    if found is None:
        return "needs %d rounds" % rounds_needed(confidence)
    low, high, coverage = found
    return "%.2f-%.2fx (%d %%)" % (low, high, math.floor(coverage * 100))
