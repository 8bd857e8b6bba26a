"""The REST API, versioned under /api/v1/ (DESIGN §8). This package holds what every endpoint
shares: token authentication, who may see which programme, pagination, throttling, error
bodies. Each app keeps its own endpoints (``indicators.api``, ``budgets.api``,
``surveys.api``)."""
