"""Exports: official forms to Excel and PDF, lists to Excel, departments' own workbooks."""

from govshare_desktop.core.errors import UserError


class ExportCancelled(UserError):
    """The clerk cancelled the export; no file was written."""

    def __init__(self) -> None:
        super().__init__("已取消导出，没有生成文件。")
