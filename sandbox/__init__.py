"""The bundled CRM sandbox: an amoCRM emulator and a stream of realistic leads for `leadrouter sandbox`."""
