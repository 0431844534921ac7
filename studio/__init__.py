"""The studio's page, in parts: controls, components, sessions, hosting limits and each tab's handlers."""
