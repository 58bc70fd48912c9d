"""Engine time of the default experiment with and without the generated level (issue #14, point 6).

The app's goal is charts within 2 s of the click, warm, with the generated level added; the
app adds about 0.7x on top of the engine (``bench/app.py``, ``bench/RESULTS.md``), so the
engine alone already says whether it can be met. Times ``run_experiment`` three times on one
built scenario (the first run also builds the oracle's table and compiles what is not cached)
for the default preset, and for the same with ``generated`` added to the levels and
``mvt_ts`` to the policies (at the generated level only ``uniform`` and ``mvt_ts`` play).

Run: ``PYTHONPATH=. python bench/generated_run_time.py`` (about half a minute, warm caches).
"""

from __future__ import annotations

import time

from simulation.config import PRESETS
from simulation.engine.core import run_experiment
from simulation.scenario import build_scenario


def main() -> None:
    base = PRESETS["default"]
    generated = base.replace(
        levels=(*base.levels, "generated"), policies=(*base.policies, "mvt_ts")
    )
    for label, config in (("default", base), ("default + generated + mvt_ts", generated)):
        scenario = build_scenario(config)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            run_experiment(config, scenario=scenario)
            times.append(time.perf_counter() - start)
        shown = ", ".join(f"{t:.2f}" for t in times)
        print(f"{label:30} run_experiment: {shown} s (first, then warm)")


if __name__ == "__main__":
    main()
