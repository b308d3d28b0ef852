"""`python -m webhook_app.cli`: the same as the `leadrouter` command."""

import sys

from webhook_app.cli.main import main

sys.exit(main())
