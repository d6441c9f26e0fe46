"""The login form: a plain HTML form with a CSRF token (Flask-WTF)."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from models.user import MAX_USERNAME


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=MAX_USERNAME)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
