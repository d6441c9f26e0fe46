"""WTForms for the admin pages. Vehicle values are checked by ``models.validation``, the
same rules the import and the API use; each reason lands on its own field."""

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from models.validation import MAX_NAME_LENGTH, VEHICLE_FIELDS, parse_vehicle

VEHICLE_LABELS = {
    "dataset": "Dataset",
    "manufacturer": "Manufacturer",
    "model": "Model",
    "year": "Model year",
    "vehicle_class": "Vehicle class",
    "powertrain": "Powertrain",
    "fuel_type": "Fuel type",
    "horsepower": "Horsepower",
    "city_mpg": "City fuel economy (mpg)",
    "highway_mpg": "Highway fuel economy (mpg)",
    "combined_mpg": "Combined fuel economy (mpg)",
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
    "source_id": "Id in its source file",
}


class VehicleForm(FlaskForm):
    """Every vehicle field as text; ``clean`` holds the parsed values after validation."""

    clean: dict[str, Any]

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        self.clean, problems = parse_vehicle({name: self[name].data for name in VEHICLE_FIELDS})
        for name, reason in problems.items():
            self[name].errors = [*self[name].errors, f"{VEHICLE_LABELS[name]} {reason}"]
        return not problems

    def fill(self, values: dict[str, Any]) -> None:
        """Show stored values in the fields (numbers without a trailing .0)."""
        for name in VEHICLE_FIELDS:
            value = values.get(name)
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            self[name].data = "" if value is None else str(value)


# One text field per vehicle field, named as the field (WTForms reads fields off the class).
for _name in VEHICLE_FIELDS:
    setattr(VehicleForm, _name, StringField(VEHICLE_LABELS[_name]))


class ConfirmForm(FlaskForm):
    """An empty form: a POST that carries only the CSRF token."""


class BulkDeleteForm(FlaskForm):
    confirmed = HiddenField()


class RenameForm(FlaskForm):
    name = StringField("New name", validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)])


class MergeForm(FlaskForm):
    source = SelectField("Merge", coerce=int)
    target = SelectField("into", coerce=int)


class ImportForm(FlaskForm):
    file = FileField("CSV or XLSX file", validators=[FileRequired()])


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired(), Length(max=64)])


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)])
