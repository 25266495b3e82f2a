"""Tests of round_stats.py and of the tables that print its interval (run by scripts/test:
python3 -m unittest discover -s scripts/bench -p 'test_*.py')."""
import json
import os
import random
import subprocess
import sys
import tempfile
import unittest

import round_stats

HERE = os.path.dirname(os.path.abspath(__file__))


class MedianIntervalTests(unittest.TestCase):
    def test_order_statistics_of_the_binomial_table(self):
        # The textbook ranks for 95 %: n = 6..8 the whole range, 9..11 the 2nd, 12..14 the 3rd,
        # 15..16 the 4th, 17..19 the 5th, 20 the 6th from each end.
        ranks = {6: 1, 7: 1, 8: 1, 9: 2, 10: 2, 11: 2, 12: 3, 13: 3, 14: 3, 15: 4, 16: 4, 17: 5, 18: 5, 19: 5, 20: 6}
        for n, k in ranks.items():
            values = [float(v) for v in range(1, n + 1)]
            random.Random(n).shuffle(values)  # order of the rounds does not matter
            low, high, coverage = round_stats.median_interval(values)
            self.assertEqual((low, high), (float(k), float(n + 1 - k)), "n = %d" % n)
            self.assertGreaterEqual(coverage, 0.95)
        self.assertAlmostEqual(round_stats.median_interval(list(range(10)))[2], 1 - 2 * 11 / 1024)

    def test_too_few_values(self):
        for n in range(6):
            self.assertIsNone(round_stats.median_interval([1.0] * n))
        self.assertEqual(round_stats.rounds_needed(), 6)
        self.assertEqual(round_stats.describe_interval([1.0, 1.1]), "needs 6 rounds")
        self.assertIsNotNone(round_stats.median_interval([1.0] * 3, confidence=0.75))

    def test_coverage_on_skewed_noise(self):
        # Ratios as a shared VM gives them: most rounds near 1.04, one in five slowed by a
        # neighbour (0.6-0.95). The true median of that distribution, estimated from a large
        # sample, must fall inside the interval in at least 95 % of 12-round runs.
        rng = random.Random(7)
        draw = lambda: rng.uniform(0.6, 0.95) if rng.random() < 0.2 else rng.gauss(1.04, 0.02)
        truth = sorted(draw() for _ in range(200001))[100000]
        trials, inside = 4000, 0
        for _ in range(trials):
            low, high, _ = round_stats.median_interval([draw() for _ in range(12)])
            inside += low <= truth <= high
        self.assertGreaterEqual(inside / trials, 0.95)
        self.assertLess(inside / trials, 0.99)  # 12 rounds: nominal 96.1 %, not the whole range

    def test_describe(self):
        self.assertEqual(round_stats.describe_interval([1.04, 1.06, 1.04, 0.94, 1.03, 1.06]), "0.94-1.06x (96 %)")


class TableTests(unittest.TestCase):
    def run_table(self, script, cells):
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            for c in cells:
                f.write(json.dumps(c) + "\n")
        try:
            return subprocess.run([sys.executable, os.path.join(HERE, script), "medians", f.name], check=True,
                                  capture_output=True, text=True).stdout
        finally:
            os.unlink(f.name)

    def test_networks_table_prints_the_interval_and_the_count_above_1x(self):
        ratios = [1.10, 0.90, 1.05, 1.02, 1.04, 1.08, 1.03]
        cells = [dict(network="mobilenet", threads=1, ips=100 * r, ms=10 / r, ort_ips=100.0, ort_ms=10.0, ratio=r) for r in ratios]
        out = self.run_table("networks_table.py", cells).splitlines()
        row = [line for line in out if line.startswith("mobilenet")][0]
        self.assertIn("1.04x", row)  # the median ratio
        self.assertIn("0.90-1.10x (98 %)", row)  # 7 rounds: the whole range, 98.4 %
        self.assertIn("6 of 7", row)

    def test_int8_table_prints_the_interval(self):
        ratios = [1.01, 1.02, 0.97, 1.05, 1.03, 1.04, 1.00, 0.99, 1.06, 1.02]
        cells = [dict(network="mobilenet", threads=2, socprof_fp32=100.0, socprof_int8=250.0 * r, ort_fp32=95.0, ort_int8=250.0,
                      int8_over_fp32=2.5 * r, int8_over_ort_int8=r) for r in ratios]
        out = self.run_table("int8_table.py", cells)
        self.assertIn("0.99-1.05x (97 %)", out)  # 10 rounds: the 2nd from each end, 97.9 %


if __name__ == "__main__":
    unittest.main()
