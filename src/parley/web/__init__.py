"""The web console's static files (served by transport/console.py at /_parley/ui/)."""
