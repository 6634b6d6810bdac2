"""Sending mail: the SMTP conversation shared by the email connector and customer notifications."""
