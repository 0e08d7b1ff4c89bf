"""Facts extracted from code held against dataset facts."""
