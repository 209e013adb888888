"""Exports: official forms to Excel and PDF, lists to Excel, departments' own workbooks."""

CANCELLED = "已取消导出，没有生成文件。"
"""The message of :class:`~govshare_desktop.core.progress.Cancelled` when an export is stopped."""
