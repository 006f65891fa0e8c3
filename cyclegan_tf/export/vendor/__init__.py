"""Third-party files kept as they were published (see VENDOR.md)."""
