"""adlab's creative studio: personalized, templated ad copy and images."""

from creative.attributes import ATTRIBUTE_NAMES, N_ATTRIBUTES, encode_attributes
from creative.audience import Audience
from creative.audience_io import read_audiences
from creative.brand import DEFAULT_KIT, BrandKit, Palette, contrast_ratio
from creative.catalogue import CATALOGUE, Product
from creative.contact_sheet import contact_sheet
from creative.encode import FORMATS, encode_image
from creative.generate import (
    GenerationReport,
    generate_for_segment,
    generate_for_user,
    generate_generic,
    recommended_placement,
)
from creative.guardrails import LENGTH_LIMITS, check_creative
from creative.record import Creative, GuardrailVerdict
from creative.render import plan_creative, render
from creative.templates import SLOTS, TemplateSet, default_templates, load_templates

__all__ = [
    "ATTRIBUTE_NAMES",
    "CATALOGUE",
    "DEFAULT_KIT",
    "FORMATS",
    "LENGTH_LIMITS",
    "N_ATTRIBUTES",
    "SLOTS",
    "Audience",
    "BrandKit",
    "Creative",
    "GenerationReport",
    "GuardrailVerdict",
    "Palette",
    "Product",
    "TemplateSet",
    "check_creative",
    "contact_sheet",
    "contrast_ratio",
    "default_templates",
    "encode_attributes",
    "encode_image",
    "generate_for_segment",
    "generate_for_user",
    "generate_generic",
    "load_templates",
    "plan_creative",
    "read_audiences",
    "recommended_placement",
    "render",
]
