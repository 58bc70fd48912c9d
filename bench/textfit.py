"""Benchmark text fitting on the longest copy the inputs allow, and on far longer copy.

Run ``python bench/textfit.py`` (a few seconds; ``--quick``: one timed run a row, a smoke run).
Each row lays out one creative (``plan_creative``: brand, headline, body, call to action,
badge) whose copy is replaced by the given text, and prints the median and worst of a few runs in
CPU milliseconds of this process (wall time on a shared machine mostly
measures the neighbours), and the median as a ratio to a creative with
ordinary copy measured in the same run. The longest accepted copy is a template line of
``LIMITS.template`` characters using ``LIMITS.template_slots`` keywords of
``LIMITS.keyword`` characters; the target is under 50 ms per creative.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import numpy as np

from creative import Audience, generate_for_user
from creative.limits import LIMITS
from creative.render import plan_creative
from creative.textfit import _fit_text

REPEATS = 7


def cases() -> dict[str, str]:
    longest = LIMITS.template + LIMITS.template_slots * LIMITS.keyword
    return {
        "ordinary copy": "",
        f"longest accepted, words ({longest} chars)": ("word " * longest)[:longest],
        f"longest accepted, one word ({longest} chars)": "x" * longest,
        f"longest accepted, hangul ({longest} chars)": ("캠핑텐트 등산화 " * longest)[:longest],
        "100,000-char word": "x" * 100_000,
        "100,000-word text": "word " * 100_000,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one timed run a row (a smoke run)")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else REPEATS
    audience = Audience(
        kind="user", audience_id="u", name="u", top_interests=("gaming",), keywords=("rpg",)
    )
    base = generate_for_user(audience, np.random.default_rng(0))
    plan_creative(base, "feed")  # load fonts once
    print(f"{'placement':9} {'copy':42} {'p50 ms':>8} {'max ms':>8} {'x ordinary':>10}")
    for placement in ("feed", "story", "link"):
        reference = None
        for label, text in cases().items():
            times = []
            for r in range(repeats + 1):
                # A different prefix each time: fit_text caches layouts by text.
                copy = {p: f"{r}{p} {text}" for p in ("headline", "body", "cta")}
                creative = dataclasses.replace(base, **copy) if text else base
                start = time.process_time()
                plan_creative(creative, placement)
                times.append(time.process_time() - start)
                if not text:
                    _fit_text.cache_clear()  # ordinary copy repeats: measure it uncached
            times = times[1:]  # the first run warms the glyph caches
            p50 = statistics.median(times) * 1000
            reference = reference or p50
            print(
                f"{placement:9} {label:42} {p50:8.1f} {max(times) * 1000:8.1f} "
                f"{p50 / reference:10.1f}"
            )


if __name__ == "__main__":
    main()
