"""The copydesk Textual app and the click CLI. Depends on storage; nothing depends on it."""
