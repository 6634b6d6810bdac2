"""Telling the customer: notifications written with the change that causes them, sent by workers."""
