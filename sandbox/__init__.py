"""The bundled CRM sandbox: the amoCRM and Bitrix24 emulators and a lead stream for `leadrouter sandbox`."""
