"""The bundled CRM sandbox: the amoCRM and Bitrix24 emulators and a stream of leads for `leadrouter sandbox`."""
