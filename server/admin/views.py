"""Routes under ``/admin/``. Every one requires a signed-in user (editor or admin);
token and user management (``server.admin.users``) require an admin. Views parse input
and call ``models``; they hold no queries or rules of their own."""

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from models.audit import Actor, audit_page, vehicle_snapshots
from models.dataset_editing import add_dataset, delete_dataset, describe_dataset
from models.datasets import (
    DEFAULT_DATASET,
    SHIPPED,
    DatasetSummary,
    dataset_summaries,
)
from models.db import db
from models.editing import (
    EditError,
    StaleVehicle,
    create_vehicle,
    delete_vehicles,
    merge_manufacturers,
    rename_manufacturer,
    update_vehicle,
    vehicle_version,
    write_transaction,
)
from models.listing import manufacturer_names, origins, vehicle_page
from models.normalize import MANUFACTURER_ALIASES
from models.queries import manufacturer_summaries
from models.user import ApiToken, issue_token, utcnow
from models.validation import MAX_ID, MAX_NAME_LENGTH, MAX_PAGE, FieldError, parse_whole
from server.admin.forms import (
    CHOSEN_FIELDS,
    FORM_FIELDS,
    UNITS,
    VEHICLE_LABELS,
    BulkDeleteForm,
    BulkEditForm,
    ConfirmForm,
    DatasetForm,
    MergeForm,
    RenameForm,
    TokenForm,
    VehicleForm,
    plain,
    shown,
)
from server.admin.query_args import list_args
from server.admin.users import bp as users_bp
from server.auth.access import admin_required
from server.auth.views import safe_next
from server.security import refuse_forged

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.add_app_template_filter(plain, "plain")
bp.add_app_template_filter(shown, "shown")

AUDIT_PER_PAGE = 50


@bp.before_request
@login_required
def require_login() -> None:
    """Every admin route, including ones added later, needs a signed-in user."""


def form_actor() -> Actor:
    return Actor.for_user(current_user, "form")


# --- vehicles ----------------------------------------------------------------------------


@bp.get("/")
def home() -> ResponseReturnValue:
    return redirect(url_for("admin.vehicles"))


@bp.get("/vehicles")
def vehicles() -> str:
    """The vehicle list: search, filters, sort, pages, bulk delete."""
    args = list_args(request.args)
    conn = db.session.connection()
    page = vehicle_page(
        conn,
        args.vehicle_filter,
        sort=args.sort,
        descending=args.descending,
        page=args.page,
        per_page=args.per_page,
    )
    return render_template(
        "admin/vehicles.html",
        args=args,
        page=page,
        datasets=dataset_summaries(conn),
        manufacturers=[name for _, name in manufacturer_names(conn)],
        origins=origins(conn),
        bulk_form=BulkDeleteForm(),
        bulk_edit_form=BulkEditForm(formdata=None),
    )


def _dataset_choices() -> list[SelectChoice]:
    """(slug, label) of every stored dataset and of the shipped ones, which are made on use."""
    names = {slug: info.name for slug, info in SHIPPED.items()}
    names.update((d.slug, d.name) for d in dataset_summaries(db.session.connection()))
    return [SelectChoice(slug, f"{name} ({slug})") for slug, name in sorted(names.items())]


def _vehicle_form(formdata: Any = None) -> VehicleForm:
    """The vehicle form with the stored datasets, manufacturers and origins to pick from.

    With ``formdata`` it reads those values and carries no CSRF token of its own (the bulk
    edit, whose own form carries it).
    """
    form = VehicleForm() if formdata is None else VehicleForm(formdata, meta={"csrf": False})
    form.dataset.choices = _dataset_choices()
    conn = db.session.connection()
    makers = [name for _, name in manufacturer_names(conn)]
    form.offer({"manufacturer": makers, "origin": origins(conn)})
    return form


def _vehicle_page(form: VehicleForm, vehicle_id: int | None, **context: Any) -> str:
    return render_template(
        "admin/vehicle_form.html",
        form=form,
        vehicle_id=vehicle_id,
        fields=FORM_FIELDS,
        units=UNITS,
        chosen=CHOSEN_FIELDS,
        **context,
    )


def _flash_saved(form: VehicleForm, message: str) -> None:
    flash(" ".join([message, *form.notes]), "info")


@bp.route("/vehicles/new", methods=["GET", "POST"])
def create() -> ResponseReturnValue:
    form = _vehicle_form()
    form.dataset.data = form.dataset.data or request.args.get("dataset") or DEFAULT_DATASET
    if form.validate_on_submit():
        db.session.rollback()
        with write_transaction() as conn:
            vehicle_id = create_vehicle(conn, form_actor(), form.clean)
        _flash_saved(form, f"Vehicle {vehicle_id} added.")
        return redirect(url_for("admin.edit", vehicle_id=vehicle_id))
    refuse_forged(form)
    return _vehicle_page(form, None)


def _snapshot_or_404(vehicle_id: int) -> dict[str, Any]:
    found = vehicle_snapshots(db.session.connection(), [vehicle_id]).get(vehicle_id)
    if found is None:
        abort(404, f"There is no vehicle {vehicle_id}.")
    return found


def _posted_version() -> int | None:
    """The version the edit form was opened on; None when the form sends none."""
    raw = request.form.get("version")
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdecimal() and len(raw) <= 10):
        abort(400, "The form's vehicle version is not a number; reload the page.")
    return int(raw)


@bp.route("/vehicles/<int:vehicle_id>/edit", methods=["GET", "POST"])
def edit(vehicle_id: int) -> ResponseReturnValue:
    stored = _snapshot_or_404(vehicle_id)
    version = vehicle_version(db.session.connection(), vehicle_id)
    form = _vehicle_form()
    if request.method == "POST":
        version = _posted_version() or version
    if form.validate_on_submit():
        db.session.rollback()  # release the read transaction before writing
        try:
            with write_transaction() as conn:
                found = update_vehicle(conn, form_actor(), vehicle_id, form.clean, version)
        except StaleVehicle as stale:
            # Someone saved since this form was opened: keep the editor's input, show what
            # is stored now, and let a second Save overwrite it knowingly.
            newer = [
                (VEHICLE_LABELS[name], plain(stale.current.get(name)))
                for name in FORM_FIELDS
                if stale.current.get(name) != form.clean.get(name, stored.get(name))
            ]
            return _vehicle_page(form, vehicle_id, version=stale.version, newer=newer), 409
        if not found:
            abort(404, f"There is no vehicle {vehicle_id}.")
        _flash_saved(form, f"Vehicle {vehicle_id} saved.")
        return redirect(url_for("admin.edit", vehicle_id=vehicle_id))
    refuse_forged(form)
    if request.method == "GET":
        form.fill(stored)
    return _vehicle_page(form, vehicle_id, version=version)


@bp.route("/vehicles/<int:vehicle_id>/delete", methods=["GET", "POST"])
def delete(vehicle_id: int) -> ResponseReturnValue:
    """GET asks for confirmation; POST (with the CSRF token) deletes."""
    stored = _snapshot_or_404(vehicle_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        db.session.rollback()
        with write_transaction() as conn:
            delete_vehicles(conn, form_actor(), [vehicle_id])
        flash(f"Vehicle {vehicle_id} deleted.", "info")
        return redirect(url_for("admin.vehicles"))
    refuse_forged(form)
    return render_template(
        "admin/confirm_delete.html", form=form, vehicles={vehicle_id: stored}, bulk=False
    )


def _selected_ids() -> list[int]:
    """The posted vehicle ids; anything that is not a plain id in range is skipped."""
    ids = []
    for raw in request.form.getlist("ids"):
        try:
            ids.append(parse_whole(raw, 1, MAX_ID))
        except FieldError:
            continue
    return sorted(set(ids))[:1000]


@bp.post("/vehicles/bulk-delete")
def bulk_delete() -> ResponseReturnValue:
    """The first POST shows the selected rows for confirmation; the second deletes them."""
    form = BulkDeleteForm()
    ids = _selected_ids()
    if not form.validate_on_submit():
        abort(400, "The form expired or was not sent from this site; reload and try again.")
    if not ids:
        flash("Select at least one vehicle to delete.", "error")
        return redirect(url_for("admin.vehicles"))
    if form.confirmed.data != "yes":
        found = vehicle_snapshots(db.session.connection(), ids)
        return render_template("admin/confirm_delete.html", form=form, vehicles=found, bulk=True)
    db.session.rollback()
    with write_transaction() as conn:
        deleted = delete_vehicles(conn, form_actor(), ids)
    flash(f"{deleted} vehicles deleted.", "info")
    return redirect(url_for("admin.vehicles"))


def _bulk_versions(ids: list[int]) -> dict[int, int]:
    """The version of each selected vehicle that the confirmation showed, as posted."""
    versions = {}
    for vehicle_id in ids:
        raw = request.form.get(f"version-{vehicle_id}", "")
        if not (raw.isascii() and raw.isdecimal() and len(raw) <= 10):
            abort(400, "The form's vehicle versions are missing or garbled; select again.")
        versions[vehicle_id] = int(raw)
    return versions


def _bulk_confirmation(value_form: VehicleForm, field: str) -> str:
    """What the confirmation page posts back: the value it showed, so a value changed on
    that page is shown again before it is written."""
    return f"set:{plain(value_form.clean.get(field))}"


def _bulk_page(form: BulkEditForm, value_form: VehicleForm, ids: list[int], back: str) -> str:
    """The confirmation: each selected vehicle's value now, and the value it would get."""
    conn = db.session.connection()
    found = vehicle_snapshots(conn, ids)
    versions = {vehicle_id: vehicle_version(conn, vehicle_id) for vehicle_id in found}
    field = form.field.data
    return render_template(
        "admin/bulk_edit.html",
        form=form,
        value_form=value_form,
        field=field,
        label=VEHICLE_LABELS[field],
        vehicles=found,
        versions=versions,
        new=value_form.clean.get(field) if not value_form.errors else None,
        valid=not value_form.errors,
        confirmation=_bulk_confirmation(value_form, field),
        back=back,
        units=UNITS,
        chosen=CHOSEN_FIELDS,
    )


@bp.post("/vehicles/bulk-edit")
def bulk_edit() -> ResponseReturnValue:
    """Set one field on the selected vehicles, checked as a single edit is.

    The list's POST shows each vehicle's value now beside the new one; the confirming POST
    carries the versions shown and writes every vehicle or, when one has changed since,
    none (409, with the page shown again from the values now). Each change is audited.
    """
    form = BulkEditForm()
    if not form.validate_on_submit():
        refuse_forged(form)
        abort(400, "Pick one of the vehicle's fields to set.")
    ids = _selected_ids()
    back = safe_next(form.back.data) or url_for("admin.vehicles")
    if not ids:
        flash("Select at least one vehicle to edit.", "error")
        return redirect(back)
    field = form.field.data
    # From the list the value comes as "value"; the confirmation posts the field itself.
    posted: MultiDict[str, str] = request.form
    if "value" in posted:
        posted = MultiDict({field: posted["value"]})
    value_form = _vehicle_form(posted)
    valid = value_form.check([field])
    if not valid or form.confirmed.data != _bulk_confirmation(value_form, field):
        return _bulk_page(form, value_form, ids, back), 200 if valid else 400
    versions = _bulk_versions(ids)
    db.session.rollback()
    try:
        with write_transaction() as conn:
            done = [
                vehicle_id
                for vehicle_id in ids
                if update_vehicle(
                    conn, form_actor(), vehicle_id, value_form.clean, versions[vehicle_id]
                )
            ]
    except StaleVehicle as stale:
        flash(
            f"Vehicle {stale.vehicle_id} was changed by someone else after this page was shown, "
            "so nothing was saved. Here are the values now; apply again if still right.",
            "error",
        )
        return _bulk_page(form, value_form, ids, back), 409
    except EditError as error:  # a dataset that does not exist
        value_form[field].errors = [f"{VEHICLE_LABELS[field]}: {error}."]
        return _bulk_page(form, value_form, ids, back), 400
    shown_value = shown(value_form.clean.get(field))
    message = f"{VEHICLE_LABELS[field]} set to {shown_value} on {len(done)} vehicles."
    if len(done) < len(ids):
        message += f" {len(ids) - len(done)} of the selected no longer exist."
    _flash_saved(value_form, message)
    return redirect(back)


# --- manufacturers ------------------------------------------------------------------------


def _merge_form(choices: list[tuple[int, str]]) -> MergeForm:
    form = MergeForm()
    form.source.choices = choices
    form.target.choices = choices
    return form


@bp.get("/manufacturers")
def manufacturers() -> str:
    conn = db.session.connection()
    summaries = manufacturer_summaries(conn)
    aliases: dict[str, list[str]] = {}
    for alias, canonical in sorted(MANUFACTURER_ALIASES.items()):
        aliases.setdefault(canonical, []).append(alias)
    return render_template(
        "admin/manufacturers.html",
        summaries=summaries,
        aliases=aliases,
        rename_form=RenameForm(),
        merge_form=_merge_form([(s.id, s.name) for s in summaries]),
    )


@bp.post("/manufacturers/<int:manufacturer_id>/rename")
def rename(manufacturer_id: int) -> ResponseReturnValue:
    form = RenameForm()
    if not form.validate_on_submit():
        refuse_forged(form)
        flash(f"Give a new name of at most {MAX_NAME_LENGTH} characters.", "error")
        return redirect(url_for("admin.manufacturers"))
    try:
        with write_transaction() as conn:
            name = rename_manufacturer(conn, form_actor(), manufacturer_id, form.name.data or "")
    except EditError as error:
        flash(f"Not renamed: {error}.", "error")
    else:
        flash(f"Renamed to {name}.", "info")
    return redirect(url_for("admin.manufacturers"))


@bp.post("/manufacturers/merge")
def merge() -> ResponseReturnValue:
    form = _merge_form(manufacturer_names(db.session.connection()))
    db.session.rollback()
    if not form.validate_on_submit():
        refuse_forged(form)
        flash("Pick two manufacturers to merge.", "error")
        return redirect(url_for("admin.manufacturers"))
    try:
        with write_transaction() as conn:
            moved = merge_manufacturers(conn, form_actor(), form.source.data, form.target.data)
    except EditError as error:
        flash(f"Not merged: {error}.", "error")
    else:
        flash(f"Merged: {moved} vehicles moved.", "info")
    return redirect(url_for("admin.manufacturers"))


# --- datasets -----------------------------------------------------------------------------


@bp.get("/datasets")
def datasets() -> str:
    summaries = dataset_summaries(db.session.connection())
    return render_template("admin/datasets.html", datasets=summaries)


def _dataset_or_404(dataset_id: int) -> DatasetSummary:
    for summary in dataset_summaries(db.session.connection()):
        if summary.id == dataset_id:
            return summary
    abort(404, f"There is no dataset {dataset_id}.")


@bp.route("/datasets/new", methods=["GET", "POST"])
@bp.route("/datasets/<int:dataset_id>/edit", methods=["GET", "POST"])
def edit_dataset(dataset_id: int | None = None) -> ResponseReturnValue:
    """A new dataset, or a stored one renamed or described anew."""
    stored = None if dataset_id is None else _dataset_or_404(dataset_id)
    form = DatasetForm(obj=stored)
    if form.validate_on_submit():
        db.session.rollback()
        try:
            with write_transaction() as conn:
                if dataset_id is None:
                    add_dataset(conn, form_actor(), form.info)
                else:
                    describe_dataset(conn, form_actor(), dataset_id, form.info)
        except EditError as error:
            form.slug.errors = [f"Not saved: {error}."]
        else:
            flash(f"Dataset {form.info.slug} saved.", "info")
            return redirect(url_for("admin.datasets"))
    refuse_forged(form)
    return render_template("admin/dataset_form.html", form=form, dataset=stored)


@bp.route("/datasets/<int:dataset_id>/delete", methods=["GET", "POST"])
def remove_dataset(dataset_id: int) -> ResponseReturnValue:
    """GET says how many vehicles would go; POST (with the CSRF token) deletes them all."""
    stored = _dataset_or_404(dataset_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        db.session.rollback()
        with write_transaction() as conn:
            removed = delete_dataset(conn, form_actor(), dataset_id)
        flash(f"Dataset {stored.slug} deleted with its {removed} vehicles.", "info")
        return redirect(url_for("admin.datasets"))
    refuse_forged(form)
    return render_template("admin/dataset_delete.html", form=form, dataset=stored)


# --- audit --------------------------------------------------------------------------------


def _whole_or_none(raw: str, high: int) -> int | None:
    """A plain whole number from 1 to ``high``, or None (for "²", "1_0", "-3", ...)."""
    try:
        return parse_whole(raw, 1, high)
    except FieldError:
        return None


@bp.get("/audit")
def audit() -> str:
    """The change log, newest first, filterable by vehicle id and by user."""
    vehicle_raw = (request.args.get("vehicle") or "").strip()
    vehicle_id = _whole_or_none(vehicle_raw, MAX_ID)
    actor = (request.args.get("user") or "").strip() or None
    page_raw = (request.args.get("page") or "1").strip()
    page = _whole_or_none(page_raw, MAX_PAGE)
    if page is None:
        flash(f"“{page_raw[:40]}” is not a page number; showing page 1.", "error")
        page = 1
    result = audit_page(
        db.session, vehicle_id=vehicle_id, actor=actor, page=page, per_page=AUDIT_PER_PAGE
    )
    return render_template(
        "admin/audit.html",
        result=result,
        vehicle=vehicle_raw,
        user=actor or "",
        bad_vehicle=bool(vehicle_raw) and vehicle_id is None,
    )


# --- API tokens ---------------------------------------------------------------------------


@bp.route("/tokens", methods=["GET", "POST"])
@admin_required
def tokens() -> ResponseReturnValue:
    """An admin's own tokens; a new token's secret is shown on this response only."""
    form = TokenForm()
    secret = None
    if not form.validate_on_submit():
        refuse_forged(form)
    else:
        _token, secret = issue_token(db.session(), current_user, form.name.data or "")
        db.session.commit()
        form = TokenForm(formdata=None)
    mine = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id)
    ).all()
    return render_template(
        "admin/tokens.html", form=form, tokens=mine, secret=secret, revoke_form=ConfirmForm()
    )


@bp.post("/tokens/<int:token_id>/revoke")
@admin_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    form = ConfirmForm()
    token = db.session.get(ApiToken, token_id)
    if not form.validate_on_submit() or token is None or token.user_id != current_user.id:
        abort(404, "There is no such token of yours.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
    flash(f"Token {token.name!r} revoked.", "info")
    return redirect(url_for("admin.tokens"))


# --- users (admins only) ------------------------------------------------------------------

bp.register_blueprint(users_bp)
