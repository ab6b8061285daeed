"""youjun (优均): county compulsory-education high-quality balance evaluation."""

__version__ = "0.1.0"
