"""The vehicle store: SQLAlchemy models, the sample loader and the typed queries."""

from models.filters import VehicleFilter
from models.queries import (
    ManufacturerSummary,
    PlotPoints,
    count_unplottable,
    find_manufacturer,
    manufacturer_summaries,
    vehicles_for,
)
from models.sample import load_sample, seed_sample
from models.vehicle import (
    DataVersion,
    Manufacturer,
    Vehicle,
    bump_data_version,
    current_data_version,
)

__all__ = [
    "DataVersion",
    "Manufacturer",
    "ManufacturerSummary",
    "PlotPoints",
    "Vehicle",
    "VehicleFilter",
    "bump_data_version",
    "count_unplottable",
    "current_data_version",
    "find_manufacturer",
    "load_sample",
    "manufacturer_summaries",
    "seed_sample",
    "vehicles_for",
]
