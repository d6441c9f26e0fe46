"""The vehicle store: SQLAlchemy models, the sample loader, typed queries, users and audit."""

from models.audit import Actor, AuditEntry, Change, record_changes
from models.filters import VehicleFilter
from models.queries import (
    ManufacturerSummary,
    count_unplottable,
    find_manufacturer,
    manufacturer_summaries,
)
from models.sample import load_sample, seed_sample
from models.user import ApiToken, User
from models.vehicle import (
    DataVersion,
    Manufacturer,
    Vehicle,
    bump_data_version,
    current_data_version,
)

__all__ = [
    "Actor",
    "ApiToken",
    "AuditEntry",
    "Change",
    "DataVersion",
    "Manufacturer",
    "ManufacturerSummary",
    "User",
    "Vehicle",
    "VehicleFilter",
    "bump_data_version",
    "count_unplottable",
    "current_data_version",
    "find_manufacturer",
    "load_sample",
    "manufacturer_summaries",
    "record_changes",
    "seed_sample",
]
