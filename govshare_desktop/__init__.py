"""govshare-desktop: the township end of 政务数据共享 (数据回流, 一表通, 校核纠错)."""

__version__ = "0.2.0"
