"""The manufacturer normalization mapping, on its own."""

import pytest

from models.normalize import MANUFACTURER_ALIASES, normalize_manufacturer, split_car_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("chevy", "Chevrolet"),
        ("chevroelt", "Chevrolet"),
        ("CHEVY", "Chevrolet"),
        ("vw", "Volkswagen"),
        ("vokswagen", "Volkswagen"),
        ("toyouta", "Toyota"),
        ("maxda", "Mazda"),
        ("mercedes", "Mercedes-Benz"),
        ("capri", "Ford"),
        ("hi", "International Harvester"),
        # Anything else keeps the case it was given; only spaces are tidied.
        ("  TOYOTA ", "TOYOTA"),
        ("FormulaCo", "FormulaCo"),
        ("GMC", "GMC"),
        ("İstanbul Motors", "İstanbul Motors"),
        ("alfa   romeo", "alfa romeo"),
        ("ß" * 80, "ß" * 80),
    ],
)
def test_normalize_manufacturer(raw: str, expected: str) -> None:
    assert normalize_manufacturer(raw) == expected


def test_every_alias_targets_a_display_name() -> None:
    for target in MANUFACTURER_ALIASES.values():
        assert normalize_manufacturer(target) == target


def test_empty_name_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        normalize_manufacturer("   ")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("chevy c20", ("Chevrolet", "c20")),
        ("vw rabbit custom", ("Volkswagen", "rabbit custom")),
        ("capri ii", ("Ford", "capri ii")),
        ("hi 1200d", ("International Harvester", "1200d")),
        ("mercedes benz 300d", ("Mercedes-Benz", "benz 300d")),
        ("chevrolet malibu", ("Chevrolet", "malibu")),
        ("amc hornet", ("AMC", "hornet")),
        ("bmw 2002", ("BMW", "2002")),
        ("rolls-royce phantom", ("Rolls-Royce", "phantom")),
        ("GMC sierra", ("GMC", "sierra")),
    ],
)
def test_split_car_name(name: str, expected: tuple[str, str]) -> None:
    assert split_car_name(name) == expected
