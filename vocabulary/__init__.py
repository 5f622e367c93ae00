"""The words every stage shares: findings, impacts, teams, WCAG criteria, URLs and page keys."""
