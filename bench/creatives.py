"""Benchmark the creative studio: images/s per size and format, per-user latency.

Run ``python bench/creatives.py`` (about a minute) or ``--quick`` (tiny sizes, a
few seconds, used by the smoke test). Every figure is also printed as a ratio
to a reference measured in the same run on the same machine, so numbers from a
busy or a different machine can still be compared:

* images/s are divided by the reference "plain Pillow" rate: a blank canvas of
  the same size, one line of text, encoded with Pillow's default settings;
* per-user latency is divided by the same reference at 540x540.

The "cpu cap" column is images per CPU-second of the workers times the number
of workers: the rate the pool would reach with every core to itself, which
stays meaningful when other jobs share the machine.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from PIL import Image, ImageDraw

from creative import (
    Audience,
    encode_image,
    generate_for_user,
    generate_generic,
    render,
)
from creative.encode import PNG_COMPRESS_LEVEL
from creative.fonts import get_font
from creative.vocabulary import (
    INTEREST_KEYWORDS,
    INTERESTS,
    LANGUAGES,
    PLACEMENTS,
    TIMES_OF_DAY,
)

FORMATS = ("png", "jpeg", "webp")
_CREATIVES: list = []


def _init(creatives: list) -> None:
    _CREATIVES[:] = creatives


def _work(task: tuple[int, int, object, str]) -> float:
    """Render and encode creatives ``start:stop``; return the CPU seconds it took."""
    start, stop, size, fmt = task
    cpu = time.process_time()
    for i in range(start, stop):
        # Each measured image is a creative not rendered before, so the text caches only
        # help with what really repeats (brand, disclosure, calls to action, badges).
        creative = _CREATIVES[i % len(_CREATIVES)]
        encode_image(render(creative, size), fmt)
    return time.process_time() - cpu


def _baseline(size: tuple[int, int], fmt: str) -> bytes:
    # The reference: what "draw some text and save it" costs with Pillow's defaults.
    image = Image.new("RGB", size, (20, 33, 61))
    ImageDraw.Draw(image).text(
        (size[0] // 10, size[1] // 2), "Plain Pillow reference", font=get_font(48), fill="white"
    )
    buffer = io.BytesIO()
    image.save(buffer, format=fmt.upper())
    return buffer.getvalue()


def _rate(fn, n: int) -> float:
    fn()  # warm caches (fonts, glyph advances)
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - t0)


def _creatives(n: int, seed: int) -> list:
    # Generic controls and per-user creatives in both languages, as the studio makes them.
    rng = np.random.default_rng(seed)
    out = list(generate_generic(max(1, n // 4), rng).accepted)
    out += [generate_for_user(user, rng) for user in _users(n - len(out), seed + 7)]
    return out


def _users(n: int, seed: int) -> list[Audience]:
    rng = np.random.default_rng(seed)
    users = []
    for i in range(n):
        interests = tuple(rng.choice(INTERESTS, size=2, replace=False).tolist())
        users.append(
            Audience(
                kind="user",
                audience_id=f"user-{i}",
                name=f"user {i}",
                top_interests=interests,
                keywords=(str(rng.choice(INTEREST_KEYWORDS[interests[0]])),),
                active_hours=str(rng.choice(TIMES_OF_DAY)),
                mobile_share=float(rng.random()),
                price_sensitivity=float(rng.random()),
                language=str(rng.choice(LANGUAGES)),
            )
        )
    return users


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, few images")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be >= 1")

    # --quick draws at 250x250: the smallest square where every bundled creative is drawn,
    # none refused (at 200x200 a minimal layout's badge cannot hold its offer at 10 px).
    tiny = (250, 250)
    sizes = {"tiny": tiny} if args.quick else dict(PLACEMENTS)
    n_images = 6 if args.quick else 48
    n_pool = 12 if args.quick else 240
    n_users = 20 if args.quick else 400
    n_cells = len(sizes) * len(FORMATS)
    creatives = _creatives(n_cells * (n_images + n_pool) + 1, args.seed)
    print(f"creative bench: {len(creatives)} creatives, {args.workers} worker process(es)")
    print(f"PNG: creative.encode writer, filter none, zlib level {PNG_COMPRESS_LEVEL}")

    # --- PNG encoders on one finished feed image --------------------------------------
    size_feed = tiny if args.quick else PLACEMENTS["feed"]
    image = render(creatives[0], size_feed)  # also warms the font caches
    for label, fn in (
        ("adlab writer, level 1", lambda: encode_image(image, "png")),
        ("Pillow compress_level=1", lambda: image.save(io.BytesIO(), "PNG", compress_level=1)),
        ("Pillow default (6)", lambda: image.save(io.BytesIO(), "PNG")),
    ):
        print(f"  PNG encode {label:<26} {1000 / _rate(fn, max(3, n_images // 2)):7.2f} ms")

    # --- throughput per size and format ------------------------------------------------
    print()
    header = f"{'size':<8}{'format':<7}{'ref img/s':>10}{'1 proc':>9}{'x ref':>7}"
    header += f"{f'{args.workers} proc':>9}{'x ref':>7}{'cpu cap':>9}"
    print(header)
    pool = ProcessPoolExecutor(args.workers, initializer=_init, initargs=(creatives,))
    try:
        list(pool.map(_work, [(0, 1, size_feed, "png")] * args.workers))  # start workers
        _init(creatives)
        _work((0, 1, size_feed, "png"))
        start = 1
        for name, size in sizes.items():
            for fmt in FORMATS:
                ref = _rate(lambda size=size, fmt=fmt: _baseline(size, fmt), n_images)
                t0 = time.perf_counter()
                _work((start, start + n_images, size, fmt))
                one = n_images / (time.perf_counter() - t0)
                start += n_images
                chunk = max(1, n_pool // (args.workers * 4))
                tasks = [
                    (i, min(i + chunk, start + n_pool), size, fmt)
                    for i in range(start, start + n_pool, chunk)
                ]
                start += n_pool
                t0 = time.perf_counter()
                cpu = sum(pool.map(_work, tasks))
                many = n_pool / (time.perf_counter() - t0)
                # What the workers could do with every core to themselves: images per CPU
                # second times the workers; robust to other load on a shared machine.
                capacity = n_pool * args.workers / cpu
                print(
                    f"{name:<8}{fmt:<7}{ref:>10.1f}{one:>9.1f}{one / ref:>7.2f}"
                    f"{many:>9.1f}{many / ref:>7.2f}{capacity:>9.1f}"
                )
    finally:
        pool.shutdown()

    # --- per-user latency --------------------------------------------------------------
    users = _users(n_users, args.seed + 1)
    rng = np.random.default_rng(args.seed + 2)
    size_user = tiny if args.quick else PLACEMENTS["preview"]
    render(generate_for_user(users[0], rng), size_user)
    times = []
    for user in users:
        t0 = time.perf_counter()
        render(generate_for_user(user, rng), size_user)
        times.append(time.perf_counter() - t0)
    ref_ms = 1000 / _rate(lambda: _baseline(size_user, "png"), max(3, n_images))
    p50, p95 = (1000 * float(np.percentile(times, q)) for q in (50, 95))
    print()
    print(
        f"per-user creative (generate_for_user + {size_user[0]}x{size_user[1]} render), "
        f"{n_users} users:"
    )
    print(f"  p50 {p50:6.2f} ms ({p50 / ref_ms:.2f} x ref)")
    print(f"  p95 {p95:6.2f} ms ({p95 / ref_ms:.2f} x ref)")
    print(f"  ref: plain Pillow text + PNG at {size_user[0]}x{size_user[1]}: {ref_ms:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
