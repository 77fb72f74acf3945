"""Bundled JSON-LD context documents (data only); ``index.json`` maps each URL to its file."""
