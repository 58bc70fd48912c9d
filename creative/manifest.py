"""A rendered creative's row in ``manifest.csv``: what the image prints, at its size.

The command line (``python -m creative render``) and the app's download write the same
columns. A creative's record is size-free, but at the smallest sizes the image may leave out
the body's last sentences (``creative.copyfit``), and with them the greeting or the search
they carried: the row lists the body, the greeting and the search as the image prints them.
"""

from __future__ import annotations

from creative.record import Creative
from creative.render import RenderPlan

__all__ = ["MANIFEST_COLUMNS", "manifest_row"]

#: Columns of ``manifest.csv``, in order.
MANIFEST_COLUMNS: tuple[str, ...] = (
    "variant_id",
    "audience",
    "segment",
    "product",
    "category",
    "keyword",
    "greeting",
    "headline",
    "body",
    "cta",
    "tone",
    "offer",
    "palette",
    "layout",
    "language",
    "size",
    "guardrail",
    "reason",
    "file",
)


def manifest_row(
    creative: Creative, plan: RenderPlan, *, segment: str, size: str, file: str
) -> dict[str, str]:
    """The manifest row of a creative drawn by ``plan``.

    Parameters
    ----------
    creative : Creative
    plan : RenderPlan
        ``plan_creative(creative, size)``: the image the row describes.
    segment : str
        The audience's folder name, ``generic`` for the controls.
    size : str
        The placement (or ``WxH``) as the user asked for it.
    file : str
        The image's path relative to the output folder.

    Returns
    -------
    row : dict of str to str
        One value per :data:`MANIFEST_COLUMNS`: ``keyword`` and ``greeting`` are the search
        and the time of day greeted that the image prints (empty when none), ``body`` the
        body as printed (empty when it is left out).
    """
    return {
        "variant_id": creative.creative_id,
        "audience": creative.audience.name,
        "segment": segment,
        "product": creative.product,
        "category": creative.category,
        "keyword": plan.keyword or "",
        "greeting": plan.greeting or "",
        "headline": creative.headline,
        "body": plan.body,
        "cta": creative.cta,
        "tone": creative.tone,
        "offer": creative.offer,
        "palette": creative.palette.name,
        "layout": creative.layout,
        "language": creative.language,
        "size": size,
        "guardrail": "pass" if creative.guardrail.passed else "reject",
        "reason": "; ".join(creative.guardrail.reasons),
        "file": file,
    }
