"""The words every stage shares: impacts, findings, reasons, WCAG criteria, page keys."""
