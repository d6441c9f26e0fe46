"""The administration pages under ``/admin/``: vehicles, manufacturers, import, audit, tokens."""
