"""The pure routing core: who gets a lead and why. Imports only the standard library."""
