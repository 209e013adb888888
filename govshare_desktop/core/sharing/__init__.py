"""Sharing beyond back-flow: the county's calendar, the catalog (目录) and share requests (共享申请)."""
