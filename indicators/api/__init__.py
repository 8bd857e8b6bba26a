"""API endpoints of progress reports, values and rollups."""
