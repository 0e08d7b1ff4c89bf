"""The runtime probe: the user's script dry-run in a child process."""
