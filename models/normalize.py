"""How a raw car name becomes a manufacturer and a model name.

The sample's manufacturer is the first word of the car's name, and that word carries
misspellings and nicknames. ``MANUFACTURER_ALIASES`` is the one mapping that fixes them;
imports use it too, so "chevy" in a CSV lands on the same row as "chevrolet".

A name typed in a form, the API or a manufacturer column keeps the case it was given
("FormulaCo", "GMC", "İstanbul Motors"): only the alias table changes it. Stored names are
matched ignoring case, so "toyota" still lands on "Toyota". Only all-lower-case car names,
as the sample writes them, are title-cased by ``split_car_name``.
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

#: Sample names whose display form is not simple title case.
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
    """The manufacturer's name with runs of spaces collapsed and the alias table applied;
    otherwise in the case it was given."""
    name = _SPACES.sub(" ", raw.strip())
    if not name:
        raise ValueError("manufacturer name is empty")
    return MANUFACTURER_ALIASES.get(name.lower(), name)


def _sample_display_name(word: str) -> str:
    """A car name's first word as a display name: the sample writes all in lower case, so
    "amc" becomes "AMC" and "ford" "Ford"; a word with capitals ("GMC") is kept."""
    key = word.lower()
    if not key:
        raise ValueError("manufacturer name is empty")
    fallback = word.title() if word.islower() else word
    return MANUFACTURER_ALIASES.get(key) or DISPLAY_NAMES.get(key) or fallback


def split_car_name(name: str) -> tuple[str, str]:
    """Split a sample name such as "chevy c20" into ("Chevrolet", "c20")."""
    words = _SPACES.sub(" ", name.strip()).split(" ")
    first = words[0]
    manufacturer = _sample_display_name(first)
    if first.lower() in _MODEL_NAME_ALIASES:
        return manufacturer, " ".join(words)
    model = " ".join(words[1:]) or first
    return manufacturer, model
