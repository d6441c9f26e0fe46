"""WTForms for the admin pages. Vehicle values are checked by ``models.validation``, the
same rules the import and the API use; each reason lands on its own field."""

from collections.abc import Iterable
from dataclasses import fields
from difflib import get_close_matches
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Regexp
from wtforms.widgets import NumberInput

from models.dataset_editing import SLUG_PATTERN
from models.datasets import DatasetInfo
from models.explore import AXIS_FIELDS
from models.user import MAX_USERNAME, ROLES
from models.validation import (
    MAX_NAME_LENGTH,
    MAX_SLUG_LENGTH,
    MAX_SOURCE_LENGTH,
    POWERTRAINS,
    RULES,
    VEHICLE_FIELDS,
    FieldError,
    parse_field,
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

#: The unit a number field is in, shown beside its input.
UNITS = {
    "horsepower": "hp",
    "city_mpg": "mpg",
    "highway_mpg": "mpg",
    "combined_mpg": "mpg",
    "displacement": "L",
    "weight": "lb",
    "acceleration": "s",
    "co2_g_per_mile": "g/mi",
    "annual_fuel_cost_usd": "USD",
    "electric_range_miles": "mi",
}

#: Fields picked from the values already stored, or a new one the editor confirms.
CHOSEN_FIELDS = ("manufacturer", "origin")
#: The choice that reveals the text input for a new value.
NEW = "__new__"
#: The nouns the messages use for a chosen field.
CHOSEN_NOUNS = {"manufacturer": "manufacturer", "origin": "origin"}


def plain(value: Any) -> str:
    """A stored value as text: empty for None, whole numbers without ".0"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value)


#: How a page shows an empty value where one could stand (the audit log, a bulk edit).
EMPTY = "—"


def shown(value: Any) -> str:
    """A stored value for reading: ``plain``, with "—" for empty."""
    return plain(value) or EMPTY


def _number_input(name: str) -> NumberInput:
    """An input a phone opens with a number pad; the server still checks the value."""
    rule = RULES[name]
    if rule.kind == "int":
        low, high = rule.between or (1, None)
        return NumberInput(step=1, min=low, max=high)
    return NumberInput(step="any", min=0)


class VehicleForm(FlaskForm):
    """Every editable field; ``clean`` holds the parsed values after validation.

    The view sets ``dataset.choices`` and calls ``offer`` with the stored manufacturers and
    origins. A value that is not among them (after the alias table and ignoring case) is
    new, and is accepted only with its confirmation box ticked; one that differs from a
    stored value only in case becomes that value, and ``notes`` says so.
    """

    clean: dict[str, Any]
    notes: list[str]
    existing: dict[str, list[str]]

    def offer(self, existing: dict[str, list[str]]) -> None:
        """The stored values each chosen field lists, plus "New…"."""
        self.existing = existing
        for name in CHOSEN_FIELDS:
            noun = CHOSEN_NOUNS[name]
            blank = SelectChoice("", f"Pick a {noun}…" if RULES[name].required else "unknown")
            values = existing.get(name, [])
            current = self[name].data
            if current and current != NEW and current not in values:
                values = [*values, current]  # what was posted stays selected
            new = SelectChoice(NEW, f"New {noun}…")
            self[name].choices = [blank, *map(SelectChoice, values), new]

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        return self.check(FORM_FIELDS)

    def check(self, names: Iterable[str]) -> bool:
        """Parse the ``names`` fields into ``clean``; each reason goes on its field."""
        self.notes = []
        raw = {name: self[name].data for name in names}
        problems: dict[str, str] = {}
        for name in CHOSEN_FIELDS:
            if name in raw:
                raw[name] = self._chosen_value(name, problems)
        datasets = [choice.value for choice in self.dataset.choices or []]
        if raw.get("dataset") and raw["dataset"] not in datasets:
            problems["dataset"] = f"There is no dataset “{raw['dataset']}”; pick one from the list."
        self.clean, reasons = parse_vehicle(
            {k: v for k, v in raw.items() if k not in problems}, partial=True
        )
        for name, reason in reasons.items():
            self[name].errors = [*self[name].errors, f"{VEHICLE_LABELS[name]} {reason}"]
        for name, reason in problems.items():
            self[name].errors = [*self[name].errors, reason]
        return not (problems or reasons)

    def _chosen_value(self, name: str, problems: dict[str, str]) -> str | None:
        """The value a chosen field stands for: a stored one, or a confirmed new one."""
        picked = (self[name].data or "").strip()
        typed = picked if picked != NEW else (self[f"{name}_new"].data or "").strip()
        if not typed:
            return None
        try:
            normalized = parse_field(name, typed)
        except FieldError:
            return typed  # parse_vehicle words the reason
        stored = {value.lower(): value for value in self.existing.get(name, [])}
        if normalized is not None and normalized.lower() in stored:
            match = stored[normalized.lower()]
            if match != typed:
                self.notes.append(f"“{typed}” is the stored {CHOSEN_NOUNS[name]} “{match}”.")
            return match
        if not self[f"{name}_confirm"].data:
            close = get_close_matches(normalized or typed, self.existing.get(name, []), n=3)
            hint = f" Did you mean {' or '.join(close)}?" if close else ""
            problems[name] = (
                f"“{typed}” would be a new {CHOSEN_NOUNS[name]}.{hint} Pick one from the "
                f"list, or tick “Add it as a new {CHOSEN_NOUNS[name]}”."
            )
            return None
        return typed

    def fill(self, values: dict[str, Any]) -> None:
        """Show stored values in the fields (numbers without a trailing .0)."""
        for name in FORM_FIELDS:
            self[name].data = plain(values.get(name))


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
    elif _name in CHOSEN_FIELDS:
        _field = SelectField(_label, validate_choice=False)
        setattr(VehicleForm, f"{_name}_new", StringField(f"New {CHOSEN_NOUNS[_name]}"))
        setattr(
            VehicleForm,
            f"{_name}_confirm",
            BooleanField(f"Add it as a new {CHOSEN_NOUNS[_name]}"),
        )
    elif RULES[_name].kind != "text":
        _field = StringField(_label, widget=_number_input(_name))
    else:
        _field = StringField(_label)
    setattr(VehicleForm, _name, _field)


class ConfirmForm(FlaskForm):
    """An empty form: a POST that carries only the CSRF token."""


class BulkDeleteForm(FlaskForm):
    confirmed = HiddenField()


class BulkEditForm(FlaskForm):
    """Which field to set on the selected vehicles; the value is a ``VehicleForm`` field."""

    field = SelectField(
        "Set", choices=[SelectChoice(name, VEHICLE_LABELS[name]) for name in FORM_FIELDS]
    )
    confirmed = HiddenField()
    back = HiddenField()


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


ROLE_LABELS = {"editor": "editor: edits the data", "admin": "admin: also users and API tokens"}
ROLE_CHOICES = [SelectChoice(role, ROLE_LABELS[role]) for role in ROLES]


#: Browsers must not fill the signed-in admin's own password into another user's.
NEW_PASSWORD = {"autocomplete": "new-password"}


class NewUserForm(FlaskForm):
    username = StringField(
        "Username",
        validators=[DataRequired(), Length(max=MAX_USERNAME)],
        render_kw={"autocomplete": "off", "autocapitalize": "none"},
    )
    role = SelectField("Role", choices=ROLE_CHOICES, default="editor")
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=1024)], render_kw=NEW_PASSWORD
    )


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class PasswordForm(FlaskForm):
    password = PasswordField(
        "New password", validators=[DataRequired(), Length(max=1024)], render_kw=NEW_PASSWORD
    )
