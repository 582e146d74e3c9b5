"""Small shared constants, importable without loading the HTTP stack."""

DEFAULT_BASE_URL = "https://api.getcargo.io"
DEFAULT_TIMEOUT_S = 360.0
