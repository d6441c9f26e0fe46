"""The compare page: 2-4 vehicles side by side at ``/compare?ids=...`` (see ``views``)."""
