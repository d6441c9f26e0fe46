"""The admin's file transfers under ``/admin/``: importing a file into a dataset (upload,
column mapping with a dry run, then a job that writes it), exporting vehicles as CSV (a
job that writes a file, or the list's rows streamed), and the jobs' pages. Registered on
the admin blueprint, so it shares its sign-in requirement and endpoint names."""

from collections.abc import Iterator
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from models.api_queries import ROW_FIELDS
from models.audit import Actor
from models.datasets import DEFAULT_DATASET, UnknownDataset
from models.db import db
from models.export import iter_vehicles_csv
from models.importer import (
    IMPORT_FIELDS,
    ImportFileError,
    Mapping,
    dry_run,
    estimate_rows,
    guess_mapping,
    read_columns,
    resolve_mapping,
)
from models.jobs import JobState
from server.admin.forms import ConfirmForm, ImportForm, ImportStepForm
from server.admin.mapping import (
    UNIT_LABELS,
    mapping_from_json,
    mapping_rows,
    mapping_to_json,
    posted_mapping,
)
from server.admin.query_args import list_args
from server.admin.uploads import UploadTooLarge, claim_upload, save_upload, stored_upload
from server.admin.views import _dataset_choices, bp
from server.jobs import (
    export_file,
    load_checked_job,
    recent_checked_jobs,
    start_export,
    start_import,
)
from server.security import refuse_forged

#: Seconds between reloads of a running job's page.
JOB_PAGE_REFRESH = 2

# --- export -------------------------------------------------------------------------------


@bp.get("/vehicles/export.csv")
def export_csv() -> Response:
    """The whole store, or the list's current filter, as CSV, streamed."""
    args = list_args(request.args)

    def generate() -> Iterator[str]:
        with db.engine.connect() as conn:
            yield from iter_vehicles_csv(conn, args.vehicle_filter)

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="vehicles.csv"'},
    )


# --- import -------------------------------------------------------------------------------


def _import_form() -> ImportForm:
    form = ImportForm()
    form.dataset.choices = _dataset_choices()
    return form


@bp.route("/import", methods=["GET", "POST"])
def import_file() -> ResponseReturnValue:
    """Upload a file into a dataset; the next page maps its columns and shows the dry run.
    Nothing is written until the confirm."""
    form = _import_form()
    form.dataset.data = form.dataset.data or request.args.get("dataset") or DEFAULT_DATASET
    if not form.validate_on_submit():
        refuse_forged(form)
        return render_template("admin/import.html", form=form)
    try:
        token, path = save_upload(form.file.data)
    except UploadTooLarge as error:
        form.file.errors = [str(error)]
        return render_template("admin/import.html", form=form), 413
    try:
        columns = read_columns(path)
    except ImportFileError as error:
        path.unlink(missing_ok=True)
        form.file.errors = [str(error)]
        return render_template("admin/import.html", form=form), 400
    step = ImportStepForm(formdata=None, token=token, dataset=form.dataset.data)
    return _mapping_step(step, path, columns, guess_mapping(columns), form.file.data.filename)


def _mapping_step(
    step: ImportStepForm,
    path: Path,
    columns: list[str],
    mapping: Mapping,
    filename: str,
    problems: list[str] | None = None,
) -> ResponseReturnValue:
    """The columns with their fields and units, and the dry run of that mapping (of files
    up to IMPORT_CHECK_MAX_ROWS rows)."""
    dataset = step.dataset.data or ""
    problems = list(problems or [])
    report = None
    # A dry run reads every row; a file too large for that within a request is checked by
    # the import job itself, which writes nothing if any row is invalid.
    rows = estimate_rows(path)
    unchecked_rows = rows if rows > current_app.config["IMPORT_CHECK_MAX_ROWS"] else None
    try:
        if not problems and unchecked_rows is None:
            report = dry_run(db.session.connection(), path, dataset, mapping)
        elif not problems:
            resolve_mapping(columns, mapping)  # the mapping's own faults, found at once
    except UnknownDataset as error:
        path.unlink(missing_ok=True)
        flash(f"Nothing can be imported: {error}.", "error")
        return redirect(url_for("admin.import_file"))
    except ImportFileError as error:  # the columns as mapped cannot make vehicles
        problems.append(f"Nothing can be imported: {error}.")
    step.mapping.data = mapping_to_json(mapping)
    preview = report.preview if report else []
    # The preview's columns: the fields that hold a value in any of its rows.
    preview_fields = [f for f in ROW_FIELDS if any(row.get(f) is not None for row in preview)]
    return render_template(
        "admin/import_mapping.html",
        step=step,
        rows=mapping_rows(columns, mapping),
        fields=IMPORT_FIELDS,
        unit_labels=UNIT_LABELS,
        problems=problems,
        report=report,
        preview_fields=preview_fields,
        filename=filename,
        unchecked_rows=unchecked_rows,
    )


def _posted_step() -> tuple[ImportStepForm, Path | None]:
    """The step form of a POST and its stored upload (None when that is gone)."""
    step = ImportStepForm()
    if not step.validate_on_submit():
        abort(400, "The form expired or was not sent from this site; upload the file again.")
    return step, stored_upload(step.token.data or "")


def _upload_gone() -> ResponseReturnValue:
    flash("That upload is no longer available; upload the file again.", "error")
    return redirect(url_for("admin.import_file"))


@bp.post("/import/check")
def import_check() -> ResponseReturnValue:
    """The mapping as changed on the page, checked again."""
    step, path = _posted_step()
    if path is None:
        return _upload_gone()
    columns = read_columns(path)
    mapping, problems = posted_mapping(columns, request.form)
    return _mapping_step(step, path, columns, mapping, request.form.get("filename", ""), problems)


@bp.post("/import/confirm")
def import_confirm() -> ResponseReturnValue:
    """Queue the import of the file as its dry run mapped it; the job writes every row in
    one transaction, or nothing at all. The job's page follows its progress."""
    step, path = _posted_step()
    if path is None:
        return _upload_gone()
    mapping = mapping_from_json(step.mapping.data or "", read_columns(path))
    if mapping is None:
        abort(400, "The mapping was not one this page made; upload the file again.")
    token = claim_upload(path)
    if token is None:
        return _upload_gone()
    actor = Actor.for_user(current_user, "import")
    job_id = start_import(actor, token, step.dataset.data or "", step.mapping.data or "")
    return redirect(url_for("admin.job", job_id=job_id))


# --- jobs ---------------------------------------------------------------------------------


def _job_or_404(job_id: str) -> JobState:
    """The job, if it is the signed-in user's own (an admin may see everyone's); a job whose
    worker went away is shown (and recorded) as failed."""
    job = load_checked_job(job_id)
    if job is None or not (current_user.is_admin or job.user_id == current_user.id):
        abort(404, "There is no such job of yours.")
    return job


@bp.route("/jobs", methods=["GET", "POST"])
def jobs() -> ResponseReturnValue:
    """The user's recent imports and exports; a POST exports the vehicles (all of them, or
    those the list's filter in the query string selects) to a CSV file, as a job."""
    form = ConfirmForm()
    args = list_args(request.args)
    if form.validate_on_submit():
        job_id = start_export(Actor.for_user(current_user, "export"), args.filter_query())
        return redirect(url_for("admin.job", job_id=job_id))
    refuse_forged(form)
    return render_template(
        "admin/jobs.html",
        form=form,
        filter_query=args.filter_query(),
        jobs=recent_checked_jobs(None if current_user.is_admin else current_user.id),
    )


@bp.get("/jobs/<job_id>")
def job(job_id: str) -> ResponseReturnValue:
    """A job's progress (the page refreshes itself until the job ends) and its outcome."""
    job = _job_or_404(job_id)
    page = render_template("admin/job.html", job=job)
    # Until the job ends, the browser reloads the page (no script needed).
    return page if job.finished else (page, {"Refresh": str(JOB_PAGE_REFRESH)})


@bp.get("/jobs/<job_id>.json")
def job_status(job_id: str) -> ResponseReturnValue:
    return jsonify(_job_or_404(job_id).as_json())


@bp.get("/jobs/<job_id>/vehicles.csv")
def job_file(job_id: str) -> ResponseReturnValue:
    """A finished export, from its file (which is only there once it is complete)."""
    path = export_file(_job_or_404(job_id))
    if path is None:
        abort(404, "This job has no file to download (not finished, failed, or removed).")
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name="vehicles.csv")
