"""Four EPA vehicles of known figures, imported beside the sample for comparison tests.

``tests/fixtures/epa-vehicles-full-header.csv`` holds, by EPA id: 13309 Acura 2.2CL/3.0CL
1997 (Regular, 22 mpg combined, 403.95 g CO2/mile, EPA cost $2,000), 34918 Tesla Model S
AWD 2015 (Electricity, 112 MPGe, no CO2 figure, EPA cost $600), 35231 Toyota Prius 2015
(Regular, 50 mpg, 178 g/mile, $750) and 34470 Chevrolet Silverado K15 4WD 2014 (Gasoline
or E85, 18 mpg, 494 g/mile, $2,450).
"""

from pathlib import Path

from flask import Flask
from sqlalchemy import select

from models.audit import Actor
from models.db import db
from models.editing import write_transaction
from models.importer import commit_import
from models.vehicle import Vehicle

EXAMPLES = Path(__file__).resolve().parent / "fixtures/epa-vehicles-full-header.csv"
ACURA, TESLA, PRIUS, SILVERADO = "13309", "34918", "35231", "34470"


def import_epa_examples(app: Flask) -> dict[str, int]:
    """Import the four vehicles into the EPA dataset; their fueldash ids by EPA id."""
    with app.app_context():
        with write_transaction() as conn:
            commit_import(conn, Actor(name="test", source="cli"), EXAMPLES, "epa-1984-2015")
        with db.engine.connect() as conn:
            rows = conn.execute(
                select(Vehicle.source_id, Vehicle.id).where(Vehicle.source_id.is_not(None))
            )
            return {source_id: vehicle_id for source_id, vehicle_id in rows}
