"""Flask extensions, created once and bound to an app in the factory with ``init_app``.

``db`` is not here: it lives with the models (``models/db.py``).
"""

from flask_bootstrap import Bootstrap5
from flask_login import LoginManager
from flask_migrate import Migrate

migrate = Migrate()
login_manager = LoginManager()
#: Bootstrap 5's CSS and JS, served from the installed package (BOOTSTRAP_SERVE_LOCAL).
bootstrap = Bootstrap5()
