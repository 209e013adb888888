"""``python -m govshare_desktop`` starts the desktop application."""

import sys

from govshare_desktop.ui.app import main

sys.exit(main())
