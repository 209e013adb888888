"""Exports: official forms to Excel and PDF, lists to Excel, departments' own workbooks."""
