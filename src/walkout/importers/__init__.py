"""Importers: other people's store data turned into walkout recordings, and shelf measurements."""

from walkout.importers.autocheckout import ImportSummary, import_autocheckout

__all__ = ["ImportSummary", "import_autocheckout"]
