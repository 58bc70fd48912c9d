"""The rules of the simulated world: every effect size of the ad funnel, in one frozen table.

:class:`WorldConfig` is the ``[world]`` table of a config TOML. Its defaults are
calibrated to published online tests and their sources are in
``docs/calibration.md``; :mod:`simulation.response` turns it into the hidden
parameters of one world (each effect size times a seeded factor in
``[1 - jitter, 1 + jitter]``, plus seeded global content effects with the given
standard deviations), and ``python -m simulation world`` lays the result open.

Effects are on the logit scale: a logit lift of ``x`` multiplies a small rate
by about ``exp(x)``, so 0.07 is about +7 %.

Three kinds of effect:

- *content* effects hold for everyone (category appeal, tone, layout, the
  tone x offer interaction, the cost of a greeting);
- *user-dependent* effects depend on who sees the ad (interests, recent
  searches, tone taste by age and region, offers by price sensitivity, greeting
  by active hours, layout by device); every one of them is multiplied by
  ``personalization_scale``, so at 0 users' traits are irrelevant to how they
  respond to creative content;
- *locale*: copy not in the viewer's language costs ``language_mismatch``. It is
  not scaled: the language someone reads is locale, not personalization, and a
  localized control (``localized_control``) is the fair baseline.

There is no built-in bonus for personalized copy: ``personalized_segment_lift``
and ``personalized_user_lift`` exist to build test worlds and default to 0.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = ["WORLD_BOUNDS", "WorldConfig"]

# (low, high) of every float field: wide enough to build worlds where
# personalization helps or hurts, narrow enough to keep rates away from 0 and 1.
_BOUNDS: dict[str, tuple[float, float]] = {
    "personalization_scale": (0.0, 10.0),
    "jitter": (0.0, 0.9),
    "base_ctr": (1e-4, 0.5),
    "base_cvr": (1e-4, 0.9),
    "category_appeal_sd": (0.0, 1.0),
    "tone_sd": (0.0, 1.0),
    "layout_sd": (0.0, 1.0),
    "tone_offer_sd": (0.0, 1.0),
    "tone_offer_strength": (-2.0, 2.0),
    "interest_click": (-2.0, 2.0),
    "top_interest_click": (-2.0, 2.0),
    "interest_conv": (-2.0, 2.0),
    "keyword_click": (-2.0, 2.0),
    "keyword_conv": (-2.0, 2.0),
    "tone_taste": (-5.0, 5.0),
    "tone_taste_sd": (0.0, 1.0),
    "discount_click": (-5.0, 5.0),
    "discount_conv": (-5.0, 5.0),
    "price_pivot": (0.0, 1.0),
    "free_shipping_click": (-2.0, 2.0),
    "free_shipping_conv": (-2.0, 2.0),
    "greeting_match": (-2.0, 2.0),
    "greeting_cost": (-1.0, 1.0),
    "layout_device": (-1.0, 1.0),
    "language_mismatch": (-1.0, 2.0),
    "price_conv": (0.0, 3.0),
    "personalized_segment_lift": (-2.0, 2.0),
    "personalized_user_lift": (-2.0, 2.0),
    "free_shipping_cost": (0.0, 0.5),
    "cpm_mobile": (0.1, 200.0),
    "cpm_desktop": (0.1, 200.0),
    "cpc": (0.01, 50.0),
}
#: The allowed (low, high) of every float field, both included: what ``WorldConfig``
#: checks, read-only, so a form can name the range it checks without restating it.
WORLD_BOUNDS: Mapping[str, tuple[float, float]] = MappingProxyType(_BOUNDS)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorldConfig:
    """Effect sizes of the simulated ad funnel (the ``[world]`` table).

    Logit-scale effects unless said otherwise. Sources of every default are in
    ``docs/calibration.md``.

    Parameters
    ----------
    personalization_scale : float, default=1.0
        Multiplies every user-dependent effect; 0 makes users' traits irrelevant
        to how they respond to creative content (language match stays).
    localized_control : bool, default=True
        Show the generic control in each viewer's language (the same arm, written
        in English and in Korean) rather than in English only.
    jitter : float, default=0.2
        Each world (seed) multiplies every effect size and cost by its own draw
        from U(1 - jitter, 1 + jitter); 0 gives the exact values.
    base_ctr, base_cvr : float, default=0.0085, 0.035
        Click-through rate and conversion after click of a plain ad (rates).
    category_appeal_sd, tone_sd, layout_sd : float, default=0.03, 0.03, 0.03
        Standard deviation of the per-world global effect of each product
        category, copy tone and image layout.
    tone_offer_sd : float, default=0.03
        Standard deviation of the per-world tone x offer interaction.
    tone_offer_strength : float, default=0.04
        Structured part of tone x offer: urgent copy with money off +1x, premium
        copy with money off -1x, informative copy with free shipping +0.5x.
    interest_click, top_interest_click, interest_conv : float, default=0.06, 0.02, 0.13
        Lift when the product's category is one of the viewer's interests (and
        extra for their top interest).
    keyword_click : float, default=0.05
        Click lift when the copy mentions one of the viewer's own recent searches.
        A keyword the viewer did not search lifts nothing.
    keyword_conv : float, default=0.10
        Conversion lift when that keyword also belongs to the product's category.
    tone_taste : float, default=0.5
        Strength of the structured taste of each age band for each tone.
    tone_taste_sd : float, default=0.02
        Per-world noise of the tone taste by age band and by region.
    discount_click, discount_conv : float, default=0.75, 1.5
        Lift per unit discount (0.2 for 20 % off), times (price sensitivity -
        ``price_pivot``): deal-seekers answer money off, premium buyers less.
    price_pivot : float, default=0.30
        Price sensitivity below which a discount cheapens the product.
    free_shipping_click, free_shipping_conv : float, default=0.11, 0.25
        Lift of free shipping per unit price sensitivity.
    greeting_match : float, default=0.105
        A time-of-day greeting adds this times the viewer's share of activity in
        that part of the day ...
    greeting_cost : float, default=0.02
        ... and costs this for everyone (it takes room from the message).
    layout_device : float, default=0.028
        +/- this when a mobile-first layout meets a phone user / a desktop user.
    language_mismatch : float, default=0.10
        Click penalty for copy not in the viewer's language (half on conversion).
    personalized_segment_lift, personalized_user_lift : float, default=0.0
        Direct click lift of copy written for a segment / a user. Not
        personalization's effect: a rule of the world that decides the answer;
        for building test worlds only.
    free_shipping_cost : float, default=0.05
        Share of the order value free shipping costs the advertiser.
    cpm_mobile, cpm_desktop : float, default=9.0, 13.5
        Cost per thousand impressions (USD).
    cpc : float, default=0.8
        Cost per click (USD) under CPC pricing.
    """

    personalization_scale: float = 1.0
    localized_control: bool = True
    jitter: float = 0.2
    base_ctr: float = 0.0085
    base_cvr: float = 0.035
    category_appeal_sd: float = 0.03
    tone_sd: float = 0.03
    layout_sd: float = 0.03
    tone_offer_sd: float = 0.03
    tone_offer_strength: float = 0.04
    interest_click: float = 0.06
    top_interest_click: float = 0.02
    interest_conv: float = 0.13
    keyword_click: float = 0.05
    keyword_conv: float = 0.10
    tone_taste: float = 0.5
    tone_taste_sd: float = 0.02
    discount_click: float = 0.75
    discount_conv: float = 1.5
    price_pivot: float = 0.30
    free_shipping_click: float = 0.11
    free_shipping_conv: float = 0.25
    greeting_match: float = 0.105
    greeting_cost: float = 0.02
    layout_device: float = 0.028
    language_mismatch: float = 0.10
    price_conv: float = 0.5
    personalized_segment_lift: float = 0.0
    personalized_user_lift: float = 0.0
    free_shipping_cost: float = 0.05
    cpm_mobile: float = 9.0
    cpm_desktop: float = 13.5
    cpc: float = 0.8

    def __post_init__(self) -> None:
        if not isinstance(self.localized_control, bool):
            raise TypeError(f"`localized_control` must be a bool; got {self.localized_control!r}.")
        for name, (low, high) in _BOUNDS.items():
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or not low <= value <= high
            ):
                raise ValueError(f"`{name}` must be a float in [{low:g}, {high:g}]; got {value!r}.")

    def replace(self, **changes: Any) -> WorldConfig:
        """A copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, as written to ``run.json`` under ``world``."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, base: WorldConfig | None = None) -> WorldConfig:
        """Build from a ``[world]`` table; keys not given come from ``base``.

        Unknown keys are an error naming them.
        """
        if not isinstance(data, dict):
            raise TypeError(f"`world` must be a table of keys; got {type(data).__name__}.")
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - fields)
        if unknown:
            from simulation.unknown_keys import unknown_keys_message

            raise ValueError(unknown_keys_message("world", unknown, fields))
        return dataclasses.replace(base or cls(), **data)
