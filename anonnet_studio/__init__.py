"""AnonNET Studio: anonymize people in video with synthetic faces or redaction."""

__version__ = "0.1.0"
