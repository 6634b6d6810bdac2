"""A report's life after triage: status changes from any source, and what each one sets off."""
