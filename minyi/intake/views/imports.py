"""Bulk import of orders (xlsx/csv) with column mapping and a progress bar."""
