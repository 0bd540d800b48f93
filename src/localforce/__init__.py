"""localforce: a Salesforce-compatible org you run yourself."""

__version__ = "0.1.0"
