"""WTForms for the admin pages. Vehicle values are checked by ``models.validation``, the
same rules the import and the API use; each reason lands on its own field."""

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from models.validation import MAX_NAME_LENGTH, VEHICLE_FIELDS, parse_vehicle

VEHICLE_LABELS = {
    "manufacturer": "Manufacturer",
    "model": "Model",
    "year": "Model year",
    "horsepower": "Horsepower",
    "mpg": "Miles per gallon",
    "cylinders": "Cylinders",
    "displacement": "Displacement (cu in)",
    "weight": "Weight (lbs)",
    "acceleration": "Acceleration (0-60 mph, s)",
    "origin": "Origin",
}


class VehicleForm(FlaskForm):
    """Every vehicle field as text; ``clean`` holds the parsed values after validation."""

    manufacturer = StringField(VEHICLE_LABELS["manufacturer"])
    model = StringField(VEHICLE_LABELS["model"])
    year = StringField(VEHICLE_LABELS["year"])
    horsepower = StringField(VEHICLE_LABELS["horsepower"])
    mpg = StringField(VEHICLE_LABELS["mpg"])
    cylinders = StringField(VEHICLE_LABELS["cylinders"])
    displacement = StringField(VEHICLE_LABELS["displacement"])
    weight = StringField(VEHICLE_LABELS["weight"])
    acceleration = StringField(VEHICLE_LABELS["acceleration"])
    origin = StringField(VEHICLE_LABELS["origin"])

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
