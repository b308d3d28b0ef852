"""One process of the refresh race: `python -m tests.adapters.amocrm.refresh_proc DB URL LEAD START`.

OAuth keys come from the environment (as in production); it waits until START (unix time), reads
the lead through a fresh client, and prints its name.
"""

from __future__ import annotations

import os
import sys
import time

from adapters.amocrm.factory import build_client
from adapters.storage.engine import make_engine


def main() -> None:
    db_url, base_url, lead_id, start = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    secrets = {
        "amocrm_client_id": os.environ["AMO_CLIENT_ID"],
        "amocrm_client_secret": os.environ["AMO_CLIENT_SECRET"],
        "amocrm_refresh_token": os.environ["AMO_REFRESH_TOKEN"],
        "amocrm_redirect_uri": os.environ["AMO_REDIRECT_URI"],
    }
    crm = {"type": "amocrm", "base_url": base_url, "rate_limit_per_second": 100}
    client = build_client(crm=crm, secrets=secrets, engine=make_engine(db_url))
    time.sleep(max(0.0, start - time.time()))
    lead = client.fetch_lead(lead_id)
    print(lead.name if lead else "missing")


if __name__ == "__main__":
    main()
