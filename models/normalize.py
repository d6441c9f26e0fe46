"""How a raw car name becomes a manufacturer and a model name.

The sample's manufacturer is the first word of the car's name, and that word carries
misspellings and nicknames. ``MANUFACTURER_ALIASES`` is the one mapping that fixes them;
imports use it too, so "chevy" in a CSV lands on the same row as "chevrolet".
"""

import re

#: Lower-case first word (or full name) -> canonical display name.
MANUFACTURER_ALIASES: dict[str, str] = {
    "chevy": "Chevrolet",
    "chevroelt": "Chevrolet",
    "vw": "Volkswagen",
    "vokswagen": "Volkswagen",
    "toyouta": "Toyota",
    "maxda": "Mazda",
    "mercedes": "Mercedes-Benz",
    # "capri ii" is the Capri II, built by Ford of Germany and sold in the US without a
    # marque badge; its maker is Ford, and the model keeps the name "capri ii".
    "capri": "Ford",
    # "hi 1200d" is an International Harvester pickup; "hi" is not a maker's name.
    "hi": "International Harvester",
}

#: Names whose display form is not simple title case.
DISPLAY_NAMES: dict[str, str] = {
    "amc": "AMC",
    "bmw": "BMW",
    "mercedes-benz": "Mercedes-Benz",
    "international harvester": "International Harvester",
}

#: Aliases whose word is part of the model's name rather than a maker's prefix.
_MODEL_NAME_ALIASES = frozenset({"capri"})

_SPACES = re.compile(r"\s+")


def normalize_manufacturer(raw: str) -> str:
    """Return the canonical display name for a manufacturer as written anywhere."""
    key = _SPACES.sub(" ", raw.strip()).lower()
    if not key:
        raise ValueError("manufacturer name is empty")
    if key in MANUFACTURER_ALIASES:
        return MANUFACTURER_ALIASES[key]
    if key in DISPLAY_NAMES:
        return DISPLAY_NAMES[key]
    return key.title()


def split_car_name(name: str) -> tuple[str, str]:
    """Split a sample name such as "chevy c20" into ("Chevrolet", "c20")."""
    words = _SPACES.sub(" ", name.strip()).split(" ")
    first = words[0]
    manufacturer = normalize_manufacturer(first)
    if first.lower() in _MODEL_NAME_ALIASES:
        return manufacturer, " ".join(words)
    model = " ".join(words[1:]) or first
    return manufacturer, model
