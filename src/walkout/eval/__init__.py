"""Evaluation: scoring receipts against truth, and a naive engine as the baseline to beat."""
