"""Intake's pages: `imports` (bulk import of orders) and `feedback` (undelivered feedback)."""
