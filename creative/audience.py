"""The audience a creative is made for: nobody in particular, a segment, or one user."""

from __future__ import annotations

from dataclasses import dataclass

from creative.vocabulary import AUDIENCE_KINDS, INTERESTS, LANGUAGES, TIMES_OF_DAY

__all__ = ["Audience"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Audience:
    """A frozen, validated description of whom a creative is for.

    Parameters
    ----------
    kind : {"generic", "segment", "user"}
        Generic creatives use no audience data at all.
    audience_id : str
        Stable identifier, e.g. ``"generic"``, ``"segment-3"``, ``"user-1042"``.
    name : str
        Readable name, e.g. ``"Night-owl gamers, mobile, deal-seekers"``.
    top_interests : tuple of str
        Interest categories by decreasing affinity (empty for generic).
    keywords : tuple of str
        Recent search keywords (empty for generic).
    active_hours : str or None
        Dominant time of day (one of ``TIMES_OF_DAY``), None for generic.
    mobile_share : float
        Share of the audience on mobile devices, in [0, 1].
    price_sensitivity : float
        0 = indifferent to price, 1 = deal-seeker.
    language : str
        ``"en"`` or ``"ko"``.
    size : int
        Number of users the audience stands for (1 for a user).
    """

    kind: str
    audience_id: str
    name: str
    top_interests: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    active_hours: str | None = None
    mobile_share: float = 0.5
    price_sensitivity: float = 0.5
    language: str = "en"
    size: int = 1

    def __post_init__(self) -> None:
        if self.kind not in AUDIENCE_KINDS:
            raise ValueError(f"`kind` must be one of {list(AUDIENCE_KINDS)}; got {self.kind!r}.")
        if not isinstance(self.audience_id, str) or not self.audience_id:
            raise ValueError(f"`audience_id` must be a non-empty str; got {self.audience_id!r}.")
        if not isinstance(self.top_interests, tuple) or not isinstance(self.keywords, tuple):
            raise TypeError("`top_interests` and `keywords` must be tuples of str.")
        unknown = [i for i in self.top_interests if i not in INTERESTS]
        if unknown:
            raise ValueError(f"`top_interests` has unknown categories {unknown}.")
        if self.kind != "generic" and not self.top_interests:
            raise ValueError(f"a {self.kind} audience needs at least one interest.")
        if self.active_hours is not None and self.active_hours not in TIMES_OF_DAY:
            raise ValueError(
                f"`active_hours` must be None or one of {list(TIMES_OF_DAY)}; "
                f"got {self.active_hours!r}."
            )
        for name in ("mobile_share", "price_sensitivity"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"`{name}` must be a float in [0, 1]; got {value!r}.")
        if self.language not in LANGUAGES:
            raise ValueError(f"`language` must be one of {list(LANGUAGES)}; got {self.language!r}.")
        if not isinstance(self.size, int) or self.size < 1:
            raise ValueError(f"`size` must be an int >= 1; got {self.size!r}.")

    @classmethod
    def generic(cls, language: str = "en") -> Audience:
        """The audience of control creatives: uses no audience data."""
        return cls(kind="generic", audience_id="generic", name="Everyone", language=language)
