"""leadrouter."""
