"""The only code that changes trains and releases. Each function is one transaction."""
