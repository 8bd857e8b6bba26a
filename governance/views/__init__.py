"""The risk register, governance and follow-up pages (see ``governance.urls``)."""
