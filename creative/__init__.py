"""adlab's creative studio: personalized, templated ad copy and images."""

from creative.attributes import ATTRIBUTE_NAMES, N_ATTRIBUTES, encode_attributes
from creative.audience import Audience

__all__ = ["ATTRIBUTE_NAMES", "N_ATTRIBUTES", "Audience", "encode_attributes"]
