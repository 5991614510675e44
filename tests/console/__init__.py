"""The web console in a real browser (Playwright driving Debian's Chromium)."""
