"""WTForms for the admin pages. Vehicle values are checked by ``models.validation``, the
same rules the import and the API use; each reason lands on its own field."""

from dataclasses import fields
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp

from models.dataset_editing import SLUG_PATTERN
from models.datasets import DatasetInfo
from models.explore import AXIS_FIELDS
from models.validation import (
    MAX_NAME_LENGTH,
    MAX_SLUG_LENGTH,
    MAX_SOURCE_LENGTH,
    POWERTRAINS,
    VEHICLE_FIELDS,
    parse_vehicle,
)

VEHICLE_LABELS = {
    "dataset": "Dataset",
    "manufacturer": "Manufacturer",
    "model": "Model",
    "year": "Model year",
    "vehicle_class": "Vehicle class",
    "powertrain": "Powertrain",
    "fuel_type": "Fuel type",
    "horsepower": "Horsepower",
    "city_mpg": "City fuel economy (mpg, MPGe if electric)",
    "highway_mpg": "Highway fuel economy (mpg, MPGe if electric)",
    "combined_mpg": "Combined fuel economy (mpg, MPGe if electric)",
    "cylinders": "Cylinders",
    "displacement": "Displacement (litres)",
    "weight": "Weight (lb)",
    "acceleration": "Acceleration (0-60 mph, s)",
    "drive": "Drive",
    "transmission": "Transmission",
    "origin": "Origin",
    "co2_g_per_mile": "CO2 (g/mile)",
    "annual_fuel_cost_usd": "Annual fuel cost (USD)",
    "electric_range_miles": "Electric range (miles)",
}

#: The fields the form edits: a row's id in its source file is set by imports only.
FORM_FIELDS = tuple(name for name in VEHICLE_FIELDS if name in VEHICLE_LABELS)


class VehicleForm(FlaskForm):
    """Every editable field; ``clean`` holds the parsed values after validation. The view
    sets ``dataset.choices`` to the stored datasets."""

    clean: dict[str, Any]

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        raw = {name: self[name].data for name in FORM_FIELDS}
        self.clean, problems = parse_vehicle(raw, partial=True)
        for name, reason in problems.items():
            self[name].errors = [*self[name].errors, f"{VEHICLE_LABELS[name]} {reason}"]
        return not problems

    def fill(self, values: dict[str, Any]) -> None:
        """Show stored values in the fields (numbers without a trailing .0)."""
        for name in FORM_FIELDS:
            self[name].data = plain(values.get(name))


def plain(value: Any) -> str:
    """A stored value as text: empty for None, whole numbers without ".0"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value)


# One field per editable vehicle field, named as the field (WTForms reads fields off the class).
for _name in FORM_FIELDS:
    _label = VEHICLE_LABELS[_name]
    if _name == "dataset":
        _field: Any = SelectField(_label)
    elif _name == "powertrain":
        # The choices are models.validation's, which also words the error for a bad one.
        _field = SelectField(
            _label,
            choices=[SelectChoice("", "unknown"), *map(SelectChoice, POWERTRAINS)],
            validate_choice=False,
        )
    else:
        _field = StringField(_label)
    setattr(VehicleForm, _name, _field)


class ConfirmForm(FlaskForm):
    """An empty form: a POST that carries only the CSRF token."""


class BulkDeleteForm(FlaskForm):
    confirmed = HiddenField()


class RenameForm(FlaskForm):
    name = StringField("New name", validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)])


class MergeForm(FlaskForm):
    source = SelectField("Merge", coerce=int)
    target = SelectField("into", coerce=int)


class DatasetForm(FlaskForm):
    """What describes a dataset; ``info`` is it as ``models.datasets`` takes it."""

    name = StringField("Name", validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)])
    slug = StringField(
        "Slug (lowercase letters, digits and hyphens; used in links)",
        validators=[
            DataRequired(),
            Length(max=MAX_SLUG_LENGTH),
            Regexp(SLUG_PATTERN, message="Use only lowercase letters, digits and single hyphens."),
        ],
    )
    description = TextAreaField("Description")
    source = StringField("Source (a URL or text)", validators=[Length(max=MAX_SOURCE_LENGTH)])
    licence = StringField("Licence", validators=[Length(max=MAX_SOURCE_LENGTH)])
    default_x = SelectField("Default x axis", choices=list(AXIS_FIELDS), default="horsepower")
    default_y = SelectField("Default y axis", choices=list(AXIS_FIELDS), default="combined_mpg")

    @property
    def info(self) -> DatasetInfo:
        return DatasetInfo(
            **{f.name: (self[f.name].data or "").strip() for f in fields(DatasetInfo)}
        )


class ImportForm(FlaskForm):
    """The upload; the view sets ``dataset.choices``."""

    file = FileField("CSV or XLSX file", validators=[FileRequired()])
    dataset = SelectField("Into the dataset")


class ImportStepForm(FlaskForm):
    """The mapping step and the confirm: the stored upload, its target dataset and, for the
    confirm, the mapping the dry run used (JSON)."""

    token = HiddenField(validators=[DataRequired(), Length(max=64)])
    dataset = HiddenField(validators=[DataRequired(), Length(max=MAX_SLUG_LENGTH)])
    mapping = HiddenField()


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)])
