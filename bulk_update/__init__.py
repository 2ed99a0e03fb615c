"""bulk-update: change many AWS Partner Central opportunities from a spreadsheet."""

__version__ = "0.1.0"
