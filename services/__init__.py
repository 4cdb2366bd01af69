"""The service layer: one function per use case, one transaction each."""
