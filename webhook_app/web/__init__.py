"""The web process: the Flask app, CRM webhooks, health and metrics, the admin page and API."""
