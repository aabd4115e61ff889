"""The command line (typer): options in, one call, errors turned into messages and exit codes."""
